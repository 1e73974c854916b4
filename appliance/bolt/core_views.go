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
	bucketNotices   = "v_notices"    // id → Notice (LWW)
	bucketCounts    = "v_counts"     // name → counter
)

type coreView struct{}

func (coreView) Name() string { return "core" }

func (coreView) Buckets() []string {
	return []string{bucketNodes, bucketGrids, bucketGridTree, bucketStaff, bucketStaffGrid, bucketUsers, bucketUsernames, bucketDuty, bucketNotices, bucketCounts}
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
		var old appliance.Grid
		had, err := tx.LWWJSON(bucketGrids, g.Code, &old)
		if err != nil {
			return err
		}
		won, err := tx.PutLWW(bucketGrids, g.Code, e, e.Body)
		if err != nil || !won {
			return err
		}
		if had {
			if err := tx.Bucket(bucketGridTree).Delete([]byte(old.Parent + "/" + old.Code)); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketGridTree).Put([]byte(g.Parent+"/"+g.Code), []byte{})
	case appliance.KindStaffSet:
		var m appliance.StaffMember
		if !decodeOK(e, &m) {
			return nil
		}
		var old appliance.StaffMember
		had, err := tx.LWWJSON(bucketStaff, m.ID, &old)
		if err != nil {
			return err
		}
		won, err := tx.PutLWW(bucketStaff, m.ID, e, e.Body)
		if err != nil || !won {
			return err
		}
		if had {
			if err := tx.Bucket(bucketStaffGrid).Delete([]byte(old.Grid + "/" + old.ID)); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketStaffGrid).Put([]byte(m.Grid+"/"+m.ID), []byte{})
	case appliance.KindUserSet:
		var u appliance.User
		if !decodeOK(e, &u) {
			return nil
		}
		feed := e.Feed.String()
		var old appliance.User
		had, err := tx.LWWJSON(bucketUsers, feed+"/"+u.ID, &old)
		if err != nil {
			return err
		}
		won, err := tx.PutLWW(bucketUsers, feed+"/"+u.ID, e, e.Body)
		if err != nil || !won {
			return err
		}
		if had && old.Username != u.Username {
			if err := tx.Bucket(bucketUsernames).Delete([]byte(feed + "/" + old.Username)); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketUsernames).Put([]byte(feed+"/"+u.Username), []byte(u.ID))
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
		_, err := tx.PutLWW(bucketNotices, n.ID, e, e.Body)
		return err
	}
	return nil
}

// decodeOK decodes e's body; a body that does not decode or validate is
// skipped (it came signed from another node, so it stays in the ledger).
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
