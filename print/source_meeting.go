package print

import (
	"context"
	"strings"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

func init() {
	for _, kind := range []struct{ name, title string }{{"meeting_agenda", "会议议程和签到表"}, {"meeting_minutes", "会议纪要"}} {
		addSource(source{
			doc: appliance.PrintDoc{Kind: kind.name, Title: kind.title, Fields: []string{"record"}, Perm: appliance.PermPrint},
			build: func(ctx context.Context, s *PrintService, req appliance.PrintRequest) (Document, error) {
				return s.meetingDoc(kind.name, req.Record)
			},
		})
	}
}

// meetingDoc builds a meeting's agenda or minutes; ref is grid.id.
func (s *PrintService) meetingDoc(kind, ref string) (Document, error) {
	grid, id, ok := strings.Cut(ref, ".")
	if !ok || !appliance.ValidID(id) || !strings.HasPrefix(grid, s.cfg.Node.Code[:9]) {
		return nil, appliance.FieldError("record", "请从会议页打印，或填写会议编号")
	}
	m, signs, err := s.store.Meeting(grid + "/" + id)
	if err != nil {
		if appliance.ErrorCode(err) == appliance.ENOTFOUND {
			return nil, appliance.FieldError("record", "没有这个会议")
		}
		return nil, err
	}
	holder := m.From // a town's meeting sent down
	if m.Grid == s.cfg.Node.Code {
		holder = s.cfg.Node.Name
	}
	day, _ := time.ParseInLocation("2006-01-02", m.Date, s.loc)
	head := MeetingHead{Holder: holder, Title: m.Title, Kind: appliance.MeetingKindLabels[m.Kind], Date: day, Time: m.Time, Place: m.Place, Chair: m.Chair, Attendees: m.Attendees}
	var agenda []string
	for _, a := range m.Agenda {
		t := a.Text
		if a.Case != "" {
			t += "（问题 " + a.Case + "）"
		}
		agenda = append(agenda, t)
	}
	if kind == "meeting_agenda" {
		doc := &MeetingAgenda{MeetingHead: head, Agenda: agenda}
		for _, sg := range signs {
			doc.Signed = append(doc.Signed, MeetingSigned{Name: sg.Name, Unit: sg.Unit, At: sg.At})
		}
		return doc, nil
	}
	doc := &MeetingMinutes{MeetingHead: head, Agenda: agenda, Minutes: m.Minutes, Decisions: m.Decisions}
	for _, sg := range signs {
		doc.Present = append(doc.Present, sg.Name)
	}
	items, err := s.store.FindActions(bolt.ActionFilter{Prefix: m.Grid + "/", Meeting: m.Key()})
	if err != nil {
		return nil, err
	}
	for _, a := range items {
		st := "办理中"
		if a.Done {
			st = "已完成"
		}
		doc.Actions = append(doc.Actions, MeetingAction{Text: a.Text, Owner: a.Owner, Due: a.Due, Case: a.Case, State: st})
	}
	return doc, nil
}
