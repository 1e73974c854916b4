package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"time"

	"gridbox/appliance"
)

// A town's own notices, duty roster, joint meetings and the work teams it
// sends reach its villages as copies
// (appliance.KindDownCopy) on each village's downward feed. The town's own
// notice or shift is the source of truth; CopyDown compares it with what
// each downward feed carries (v_down_copies) and writes only what is
// missing or out of date. Each WriteDown is its own transaction, so a
// crash between two villages, a village enrolled later or an edit made
// offline is put right by the next run (RunCopyDown).

// dutyCopyDays is how far back duty shifts go down: a village shows this
// week's roster and today's duty, not the town's old rosters.
const dutyCopyDays = 7

// applyDownCopy folds a copy as its original record, just below the
// original's stamp, so that a node holding the original (the town) keeps
// it whatever order the two arrive in; and records what the downward feed
// carries, for CopyDown to compare against.
func applyDownCopy(tx *Tx, e *appliance.Entry) error {
	var c appliance.DownCopy
	if !decodeOK(e, &c) {
		return nil
	}
	d, ok := downClaimOf(tx, e.Feed)
	// The calendar goes down from the city through the towns: a town's
	// downward feed carries the city's years too.
	if !ok || (c.Feed != d.Parent && c.Kind != appliance.KindCalendarSet) {
		slog.Warn("skip down copy not from a parent's downward feed of its own records", "feed", e.Feed.Short(), "seq", e.Seq)
		return nil
	}
	orig, _ := appliance.ParseFeedID(c.Feed)
	below := &appliance.Entry{Time: c.Time, Feed: orig, Seq: c.Seq - 1}
	var bucket, key string
	switch c.Kind {
	case appliance.KindNoticeSet:
		var n appliance.Notice
		if json.Unmarshal(c.Body, &n) != nil || n.Validate() != nil || n.Grid == d.Child {
			return nil // a parent does not speak for the child's own notices
		}
		bucket, key = bucketNotices, n.Grid+"/"+n.ID
	case appliance.KindDutySet:
		var s appliance.DutyShift
		if json.Unmarshal(c.Body, &s) != nil || s.Validate() != nil || s.Grid == d.Child {
			return nil
		}
		bucket, key = bucketDuty, s.Key()
	case appliance.KindMeetingSet:
		// The meetings view's bucket: a copy is the town's meeting as the
		// village is to see it.
		var m appliance.Meeting
		if json.Unmarshal(c.Body, &m) != nil || m.Validate() != nil || m.Grid == d.Child {
			return nil
		}
		bucket, key = bucketMeetings, m.Key()
	case appliance.KindTeamSet:
		// The work team the town sends to this village: the teams view's
		// bucket, for the child's own grid only.
		var w appliance.WorkTeam
		if json.Unmarshal(c.Body, &w) != nil || w.Validate() != nil || w.Village != d.Child {
			return nil
		}
		bucket, key = bucketTeams, w.Village
	case appliance.KindCalendarSet:
		var y appliance.CalendarYear
		if json.Unmarshal(c.Body, &y) != nil || y.Validate() != nil {
			return nil
		}
		bucket, key = bucketCalendar, strconv.Itoa(y.Year)
	case appliance.KindAssessRules, appliance.KindAssessFinding:
		if bucket, key = assessCopyKey(c, d); bucket == "" {
			return nil
		}
	default:
		return nil
	}
	if _, err := tx.PutLWW(bucket, key, below, c.Body); err != nil {
		return err
	}
	_, err := tx.PutLWW(bucketDownCopies, e.Feed.String()+"/"+c.Kind+"/"+key, e, e.Body)
	return err
}

// downClaimOf returns the proven node.down claim that starts feed (a
// parent's downward feed), if it is one.
func downClaimOf(tx *Tx, feed appliance.FeedID) (appliance.DownFeed, bool) {
	var d appliance.DownFeed
	if _, derived := feedRoleOf(tx, feed); !derived {
		return d, false
	}
	first, err := tx.Entry(feed, 1)
	if err != nil || first.Kind != appliance.KindNodeDown || first.DecodeBody(&d) != nil {
		return d, false
	}
	return d, true
}

// downCopyDrafts returns the copies child's downward feed down lacks: of
// the town's notices meant for child (and withdrawals of those it showed
// that are no longer meant for it), and of its duty shifts from since on.
func (s *Store) downCopyDrafts(tx *Tx, child string, down appliance.FeedID, node appliance.Node, since string) ([]appliance.Draft, error) {
	own := s.Feed()
	var drafts []appliance.Draft
	// consider adds the copy of the record at key (raw: its stamped value)
	// that want gives, unless the feed carries it already. want sees what
	// the feed last carried (nil if nothing) and returns nil for "nothing".
	consider := func(kind, key string, raw []byte, want func(sent *appliance.DownCopy) []byte) error {
		var feed appliance.FeedID
		copy(feed[:], raw[8:40])
		if feed != own {
			return nil // only this node's own records go down
		}
		at := appliance.HLC(binary.BigEndian.Uint64(raw[:8]))
		seq := binary.BigEndian.Uint64(raw[40:stampSize])
		var sent *appliance.DownCopy
		if v := tx.GetLWW(bucketDownCopies, down.String()+"/"+kind+"/"+key); v != nil {
			var c appliance.DownCopy
			if json.Unmarshal(v, &c) == nil {
				sent = &c
			}
		}
		body := want(sent)
		if body == nil || (sent != nil && sent.Feed == own.String() && sent.Seq == seq && bytes.Equal(sent.Body, body)) {
			return nil
		}
		orig, err := tx.Entry(own, seq)
		if err != nil {
			return err
		}
		drafts = append(drafts, appliance.Draft{Author: orig.Author, Kind: appliance.KindDownCopy, Version: 1,
			Body: appliance.DownCopy{Kind: kind, Feed: own.String(), Seq: seq, Time: at, Body: body}})
		return nil
	}
	shown := func(sent *appliance.DownCopy, gone func([]byte) bool) bool { return sent != nil && !gone(sent.Body) }

	// The calendar: every year this node holds, entered here or received
	// from its parent, goes to every child.
	cc := tx.Bucket(bucketCalendar).Cursor()
	for k, v := cc.First(); k != nil; k, v = cc.Next() {
		if len(v) < stampSize {
			continue
		}
		var feed appliance.FeedID
		copy(feed[:], v[8:40])
		at := appliance.HLC(binary.BigEndian.Uint64(v[:8]))
		seq := binary.BigEndian.Uint64(v[40:stampSize])
		author := ""
		if feed != own {
			seq++ // a year received as a copy is stamped just below its original
		} else if orig, err := tx.Entry(own, seq); err == nil {
			author = orig.Author
		}
		body := v[stampSize:]
		if raw := tx.GetLWW(bucketDownCopies, down.String()+"/"+appliance.KindCalendarSet+"/"+string(k)); raw != nil {
			var sent appliance.DownCopy
			if json.Unmarshal(raw, &sent) == nil && sent.Feed == feed.String() && sent.Seq == seq && bytes.Equal(sent.Body, body) {
				continue
			}
		}
		drafts = append(drafts, appliance.Draft{Author: author, Kind: appliance.KindDownCopy, Version: 1,
			Body: appliance.DownCopy{Kind: appliance.KindCalendarSet, Feed: feed.String(), Seq: seq, Time: at, Body: append(json.RawMessage(nil), body...)}})
	}
	if node.Role != appliance.NodeTown {
		return drafts, nil // a city sends its towns the calendar only
	}

	prefix := []byte(node.Code + "/")
	c := tx.Bucket(bucketNotices).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var n appliance.Notice
		if len(v) < stampSize || json.Unmarshal(v[stampSize:], &n) != nil {
			continue
		}
		err := consider(appliance.KindNoticeSet, string(k), v, func(sent *appliance.DownCopy) []byte {
			if !n.SentTo(child) || n.Withdrawn {
				if !shown(sent, noticeWithdrawn) {
					return nil // never shown there, or taken off already
				}
				n.Withdrawn = true
			}
			n.To, n.From = nil, node.Name
			b, _ := json.Marshal(n)
			return b
		})
		if err != nil {
			return nil, err
		}
	}
	c = tx.Bucket(bucketDuty).Cursor()
	for k, v := c.Seek([]byte(node.Code + "/" + since)); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var d appliance.DutyShift
		if len(v) < stampSize || json.Unmarshal(v[stampSize:], &d) != nil {
			continue
		}
		err := consider(appliance.KindDutySet, string(k), v, func(sent *appliance.DownCopy) []byte {
			if d.Removed && !shown(sent, shiftRemoved) {
				return nil
			}
			b, _ := json.Marshal(d)
			return b
		})
		if err != nil {
			return nil, err
		}
	}
	// Joint meetings go to the villages they concern; one no longer
	// meant for a village it reached goes there cancelled.
	c = tx.Bucket(bucketMeetings).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var m appliance.Meeting
		if len(v) < stampSize || json.Unmarshal(v[stampSize:], &m) != nil {
			continue
		}
		err := consider(appliance.KindMeetingSet, string(k), v, func(sent *appliance.DownCopy) []byte {
			if !m.SentTo(child) {
				if !shown(sent, meetingCancelled) {
					return nil
				}
				m.State = appliance.MeetingCancelled
			}
			m.To, m.From = nil, node.Name
			b, _ := json.Marshal(m)
			return b
		})
		if err != nil {
			return nil, err
		}
	}
	if err := assessCopies(tx, node, child, consider); err != nil {
		return nil, err
	}
	// The work team the town sends to this village.
	if v := tx.Bucket(bucketTeams).Get([]byte(child)); len(v) >= stampSize {
		err := consider(appliance.KindTeamSet, child, v, func(*appliance.DownCopy) []byte {
			var w appliance.WorkTeam
			if json.Unmarshal(v[stampSize:], &w) != nil {
				return nil
			}
			w.From = node.Name
			b, _ := json.Marshal(w)
			return b
		})
		if err != nil {
			return nil, err
		}
	}
	return drafts, nil
}

func meetingCancelled(b []byte) bool {
	var m appliance.Meeting
	return json.Unmarshal(b, &m) != nil || m.State == appliance.MeetingCancelled
}

func noticeWithdrawn(b []byte) bool {
	var n appliance.Notice
	return json.Unmarshal(b, &n) != nil || n.Withdrawn
}

func shiftRemoved(b []byte) bool {
	var d appliance.DutyShift
	return json.Unmarshal(b, &d) != nil || d.Removed
}

// CopyDown brings, on a town node, each enrolled village's downward feed
// up to date with the town's own notices meant for it and the town's duty
// shifts from a week before now (the node's local time) on, one
// transaction per village. It is idempotent and returns how many copies it
// wrote; on other nodes it does nothing.
func (s *Store) CopyDown(ctx context.Context, now time.Time) (int, error) {
	since := now.AddDate(0, 0, -dutyCopyDays).Format("2006-01-02")
	node, err := s.Node()
	if appliance.ErrorCode(err) == appliance.ENOTFOUND {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	var children []appliance.Enrolment
	switch node.Role {
	case appliance.NodeTown:
		children, err = s.EnrolledVillages()
	case appliance.NodeCity:
		children, err = s.enrolledOf(appliance.NodeTown)
	default:
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n := 0
	for _, en := range children {
		child := en.Code
		down, err := s.DownFeed(child)
		if err != nil {
			return n, err
		}
		drafts := func(tx *Tx) ([]appliance.Draft, error) { return s.downCopyDrafts(tx, child, down, node, since) }
		var pending []appliance.Draft
		if err := s.Read(func(tx *Tx) error { pending, err = drafts(tx); return err }); err != nil {
			return n, err
		}
		if len(pending) == 0 {
			continue // and no node.down entry for a village with nothing to receive
		}
		es, err := s.WriteDown(ctx, child, drafts)
		if err != nil {
			return n, fmt.Errorf("copy down to %s: %w", child, err)
		}
		for _, e := range es {
			if e.Kind == appliance.KindDownCopy {
				n++
			}
		}
	}
	return n, nil
}

// EnrolledVillages returns the villages this node admits (not revoked),
// one per code, by code.
func (s *Store) EnrolledVillages() ([]appliance.Enrolment, error) {
	return s.enrolledOf(appliance.NodeVillage)
}

func (s *Store) enrolledOf(role string) ([]appliance.Enrolment, error) {
	ens, err := s.Enrolments()
	if err != nil {
		return nil, err
	}
	var out []appliance.Enrolment
	seen := map[string]bool{}
	for _, en := range ens {
		if en.Role == role && !en.Revoked && !seen[en.Code] {
			seen[en.Code] = true
			out = append(out, en)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, nil
}

// RunCopyDown keeps CopyDown going on a town node until ctx ends: at once,
// soon after this node writes a notice, a duty shift or an enrolment, and
// every ten minutes (which also finishes a run cut short). now gives the
// node's local time (duty shifts from a week before today go down).
func (s *Store) RunCopyDown(ctx context.Context, now func() time.Time) {
	if node, err := s.Node(); err != nil || (node.Role != appliance.NodeTown && node.Role != appliance.NodeCity) {
		return
	}
	own := s.Feed()
	kick := s.Kicks(func(e *appliance.Entry) bool {
		switch e.Kind {
		case appliance.KindNoticeSet, appliance.KindDutySet, appliance.KindMeetingSet, appliance.KindTeamSet, appliance.KindNodeEnrol, appliance.KindCalendarSet:
			return e.Feed == own
		case appliance.KindDownCopy: // a year from the parent, to pass on
			return e.Feed != own
		}
		return false
	})
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		if n, err := s.CopyDown(ctx, now()); err != nil && ctx.Err() == nil {
			slog.Error("copy down to villages", "err", err)
		} else if n > 0 {
			slog.Info("copied down to villages", "entries", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-kick:
			select { // let a burst of writes settle
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
}
