package bolt

import (
	"encoding/json"
	"log/slog"

	"gridbox/appliance"
)

// View buckets of the foundation.
const (
	bucketNodes     = "v_nodes"      // feed hex → Node (LWW)
	bucketGrids     = "v_grids"      // code → Grid (LWW)
	bucketGridTree  = "v_grid_tree"  // parent "/" code → ""
	bucketStaff     = "v_staff"      // id → StaffMember (LWW)
	bucketStaffGrid = "v_staff_grid" // grid "/" id → ""
	bucketUsers     = "v_users"      // feed hex "/" user id → User (LWW)
	bucketUsernames = "v_usernames"  // feed hex "/" username → user id
	bucketDuty      = "v_duty"       // grid "/" date "/" shift "/" staff → DutyShift (LWW)
	bucketNotices   = "v_notices"    // grid "/" id → Notice (LWW): ids are per issuing grid
	bucketCounts    = "v_counts"     // name → counter
	// downward feed hex "/" kind "/" record key → DownCopy (LWW): what
	// each downward feed carries of its parent's records (down_copy.go)
	bucketDownCopies = "v_down_copies"
)

type coreView struct{}

func (coreView) Name() string { return "core" }

func (coreView) Buckets() []string {
	return []string{bucketNodes, bucketGrids, bucketGridTree, bucketStaff, bucketStaffGrid, bucketUsers, bucketUsernames, bucketDuty, bucketNotices, bucketCounts, bucketDownCopies, bucketCalendar}
}

func (coreView) Apply(tx *Tx, e *appliance.Entry) error {
	if err := tx.AddCounter(bucketCounts, "entries/"+e.Kind, 1); err != nil {
		return err
	}
	switch e.Kind {
	case appliance.KindNodeInit:
		var n appliance.Node
		if !decodeOK(e, &n) {
			return nil
		}
		_, err := tx.PutLWW(bucketNodes, e.Feed.String(), e, e.Body)
		return err
	case appliance.KindGridSet:
		var g appliance.Grid
		if !decodeOK(e, &g) {
			return nil
		}
		return putIndexed(tx, bucketGrids, g.Code, e, g, bucketGridTree, func(g appliance.Grid) (string, string) {
			return g.Parent + "/" + g.Code, ""
		})
	case appliance.KindStaffSet:
		var m appliance.StaffMember
		if !decodeOK(e, &m) {
			return nil
		}
		return putIndexed(tx, bucketStaff, m.ID, e, m, bucketStaffGrid, func(m appliance.StaffMember) (string, string) {
			return m.Grid + "/" + m.ID, ""
		})
	case appliance.KindUserSet:
		var u appliance.User
		if !decodeOK(e, &u) {
			return nil
		}
		feed := e.Feed.String()
		return putIndexed(tx, bucketUsers, feed+"/"+u.ID, e, u, bucketUsernames, func(u appliance.User) (string, string) {
			return feed + "/" + u.Username, u.ID
		})
	case appliance.KindDutySet:
		var d appliance.DutyShift
		if !decodeOK(e, &d) {
			return nil
		}
		_, err := tx.PutLWW(bucketDuty, d.Key(), e, e.Body)
		return err
	case appliance.KindNoticeSet:
		var n appliance.Notice
		if !decodeOK(e, &n) {
			return nil
		}
		_, err := tx.PutLWW(bucketNotices, n.Grid+"/"+n.ID, e, e.Body)
		return err
	case appliance.KindDownCopy:
		return applyDownCopy(tx, e)
	case appliance.KindCalendarSet:
		return applyCalendar(tx, e)
	}
	return nil
}

// putIndexed stores e's body at key, last writer wins, and when it wins moves
// the record's entry in index from where the old value put it to where the
// new one does (indexOf gives the index key and value).
func putIndexed[T any](tx *Tx, bucket, key string, e *appliance.Entry, v T, index string, indexOf func(T) (string, string)) error {
	var old T
	had, err := tx.LWWJSON(bucket, key, &old)
	if err != nil {
		return err
	}
	won, err := tx.PutLWW(bucket, key, e, e.Body)
	if err != nil || !won {
		return err
	}
	if had {
		oldKey, _ := indexOf(old)
		if err := tx.Bucket(index).Delete([]byte(oldKey)); err != nil {
			return err
		}
	}
	k, val := indexOf(v)
	return tx.Bucket(index).Put([]byte(k), []byte(val))
}

// decodeOK decodes e's body; a body that does not decode or validate is
// skipped (it came signed from another node, so it stays in the ledger).
// putLWWAs folds an entry that sets one record: its body decoded as T and
// kept under key(v) in bucket, last writer wins. A body that does not
// decode or validate is left out of the view, as decodeOK does.
func putLWWAs[T any, P interface {
	*T
	Validate() error
}](tx *Tx, e *appliance.Entry, bucket string, key func(P) string) error {
	var v T
	if !decodeOK(e, P(&v)) {
		return nil
	}
	_, err := tx.PutLWW(bucket, key(&v), e, e.Body)
	return err
}

func decodeOK(e *appliance.Entry, v interface{ Validate() error }) bool {
	if err := json.Unmarshal(e.Body, v); err != nil {
		slog.Warn("skip undecodable entry", "feed", e.Feed.Short(), "seq", e.Seq, "kind", e.Kind)
		return false
	}
	if err := v.Validate(); err != nil {
		slog.Warn("skip invalid entry", "feed", e.Feed.Short(), "seq", e.Seq, "kind", e.Kind, "field", appliance.ErrorField(err))
		return false
	}
	return true
}

func init() { RegisterView(coreView{}) }
