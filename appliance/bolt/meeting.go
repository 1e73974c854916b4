package bolt

import (
	"context"
	"encoding/json"
	"sort"
	"strings"

	"gridbox/appliance"
)

// Meetings (docs/week.md): weekly meetings, the monthly council and the
// town's joint meetings; attendance; action items.
const (
	bucketMeetings     = "v_meetings"      // grid "/" id → Meeting (LWW); a town's copies come down (down_copy.go)
	bucketMeetingSigns = "v_meeting_signs" // meeting key "\x00" stamp → MeetingSign
	bucketActions      = "v_actions"       // grid "/" id → ActionItem (LWW)
)

type meetingView struct{}

func (meetingView) Name() string { return "meetings" }
func (meetingView) Buckets() []string {
	return []string{bucketMeetings, bucketMeetingSigns, bucketActions}
}

func (meetingView) Apply(tx *Tx, e *appliance.Entry) error {
	switch e.Kind {
	case appliance.KindMeetingSet:
		return putLWWAs(tx, e, bucketMeetings, func(m *appliance.Meeting) string { return m.Key() })
	case appliance.KindMeetingSign:
		var s appliance.MeetingSign
		if !decodeOK(e, &s) {
			return nil
		}
		return tx.Bucket(bucketMeetingSigns).Put(append([]byte(s.Meeting+"\x00"), stampOf(e)...), e.Body)
	case appliance.KindActionSet:
		return putLWWAs(tx, e, bucketActions, func(a *appliance.ActionItem) string { return a.Grid + "/" + a.ID })
	}
	return nil
}

func init() { RegisterView(meetingView{}) }

// SetMeeting schedules a meeting or changes it (agenda, minutes,
// decisions, state).
func (s *Store) SetMeeting(ctx context.Context, author string, m appliance.Meeting) (appliance.Meeting, error) {
	if m.ID == "" {
		m.ID = s.NewRecordID("m")
	}
	if m.State == "" {
		m.State = appliance.MeetingScheduled
	}
	m.Title, m.Minutes = strings.TrimSpace(m.Title), strings.TrimSpace(m.Minutes)
	if err := m.Validate(); err != nil {
		return m, err
	}
	_, err := s.Append(ctx, appliance.Draft{Author: author, Kind: appliance.KindMeetingSet, Version: 1, Body: m})
	return m, err
}

// Meeting returns the meeting with key (grid/id) and its attendance, in
// signing order.
func (s *Store) Meeting(key string) (appliance.Meeting, []appliance.MeetingSign, error) {
	var m appliance.Meeting
	var signs []appliance.MeetingSign
	err := s.Read(func(tx *Tx) error {
		ok, err := tx.LWWJSON(bucketMeetings, key, &m)
		if err == nil && !ok {
			return appliance.Errorf(appliance.ENOTFOUND, "会议不存在")
		}
		if err != nil {
			return err
		}
		signs, err = meetingSignsTx(tx, key)
		return err
	})
	return m, signs, err
}

func meetingSignsTx(tx *Tx, key string) ([]appliance.MeetingSign, error) {
	var out []appliance.MeetingSign
	p := []byte(key + "\x00")
	c := tx.Bucket(bucketMeetingSigns).Cursor()
	for k, v := c.Seek(p); k != nil && strings.HasPrefix(string(k), string(p)); k, v = c.Next() {
		var sg appliance.MeetingSign
		if err := json.Unmarshal(v, &sg); err != nil {
			return nil, err
		}
		out = append(out, sg)
	}
	return out, nil
}

// FindMeetings returns the meetings of the grids whose codes start with
// prefix (a village's code; a town's first 9 digits for the town and all
// its villages), dated from from to to (inclusive; "" for open), by date.
func (s *Store) FindMeetings(prefix, from, to string) ([]appliance.Meeting, error) {
	var out []appliance.Meeting
	err := s.Read(func(tx *Tx) error {
		return tx.EachLWW(bucketMeetings, prefix, func(_ string, v []byte) error {
			var m appliance.Meeting
			if err := json.Unmarshal(v, &m); err != nil {
				return err
			}
			if (from == "" || m.Date >= from) && (to == "" || m.Date <= to) {
				out = append(out, m)
			}
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Date != out[j].Date {
			return out[i].Date < out[j].Date
		}
		return out[i].Time < out[j].Time
	})
	return out, err
}

// SignMeeting records one person's attendance; nobody signs twice, and
// nobody signs a cancelled meeting.
func (s *Store) SignMeeting(ctx context.Context, author string, sg appliance.MeetingSign) error {
	sg.Name, sg.Unit = strings.TrimSpace(sg.Name), strings.TrimSpace(sg.Unit)
	if err := sg.Validate(); err != nil {
		return err
	}
	_, err := s.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		var m appliance.Meeting
		if ok, err := tx.LWWJSON(bucketMeetings, sg.Meeting, &m); err != nil {
			return nil, err
		} else if !ok {
			return nil, appliance.Errorf(appliance.ENOTFOUND, "会议不存在")
		}
		if m.State == appliance.MeetingCancelled {
			return nil, appliance.Errorf(appliance.ECONFLICT, "会议已取消，不能签到")
		}
		signs, err := meetingSignsTx(tx, sg.Meeting)
		if err != nil {
			return nil, err
		}
		for _, o := range signs {
			if sg.StaffID != "" && o.StaffID == sg.StaffID || sg.StaffID == "" && o.Name == sg.Name && o.Unit == sg.Unit {
				return nil, appliance.Errorf(appliance.ECONFLICT, "%s 已经签到", sg.Name)
			}
		}
		return []appliance.Draft{{Author: author, Kind: appliance.KindMeetingSign, Version: 1, Body: sg}}, nil
	})
	return err
}

// SetAction adds or changes an action item of a meeting held on this node
// or sent down to it.
func (s *Store) SetAction(ctx context.Context, author string, a appliance.ActionItem) (appliance.ActionItem, error) {
	if a.ID == "" {
		a.ID = s.NewRecordID("t")
	}
	a.Text, a.Owner, a.Outcome = strings.TrimSpace(a.Text), strings.TrimSpace(a.Owner), strings.TrimSpace(a.Outcome)
	if err := a.Validate(); err != nil {
		return a, err
	}
	_, err := s.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		var m appliance.Meeting
		if ok, err := tx.LWWJSON(bucketMeetings, a.Meeting, &m); err != nil {
			return nil, err
		} else if !ok {
			return nil, appliance.FieldError("meeting", "会议不存在")
		}
		if a.Done && a.Outcome == "" {
			return nil, appliance.FieldError("outcome", "办结时请填写办理结果")
		}
		return []appliance.Draft{{Author: author, Kind: appliance.KindActionSet, Version: 1, Body: a}}, nil
	})
	return a, err
}

// Action returns one action item.
func (s *Store) Action(grid, id string) (appliance.ActionItem, error) {
	return lwwOne[appliance.ActionItem](s, bucketActions, grid+"/"+id, "事项不存在")
}

// ActionFilter selects action items.
type ActionFilter struct {
	Prefix  string // grid code prefix, as FindMeetings
	Meeting string // one meeting's key
	Open    bool   // only those not done
}

// FindActions returns action items by due date.
func (s *Store) FindActions(f ActionFilter) ([]appliance.ActionItem, error) {
	var out []appliance.ActionItem
	err := s.Read(func(tx *Tx) error {
		return tx.EachLWW(bucketActions, f.Prefix, func(_ string, v []byte) error {
			var a appliance.ActionItem
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			if (f.Meeting == "" || a.Meeting == f.Meeting) && (!f.Open || !a.Done) {
				out = append(out, a)
			}
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Due != out[j].Due {
			return out[i].Due < out[j].Due
		}
		return out[i].ID < out[j].ID
	})
	return out, err
}
