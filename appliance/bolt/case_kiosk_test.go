package bolt_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/appliance/voicetest"
)

// Reports from the kiosk made without typing: a voice message (stored by
// its address beside the ledger, only the address in the entry), tapped
// phrases, a callback request; 其他 / 说不清 goes to the village whatever
// group was chosen. A refused report writes nothing.
func TestKioskIntake(t *testing.T) {
	ctx := context.Background()
	clk := &simClock{t: day(2, 9)}
	v := mustNode(t, appliance.NodeVillage, villageCode, "杏花村", clk, true)
	group := villageCode + "-02"
	voice := voicetest.WebM(3*time.Second, 24000, 1)

	r, err := v.Cases.RegisterCase(ctx, "", bolt.CaseIntake{Category: "public_affairs", Source: appliance.SourceKiosk, Group: group, Voice: voice})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := v.Cases.Case(r.Code)
	if len(c.Voice) != 1 || c.Level != appliance.CaseLevelGroup || !strings.Contains(c.Description, "语音留言") {
		t.Fatalf("voice report: %+v", c)
	}
	stored, err := v.Cases.Voice(c.Voice[0])
	if err != nil || appliance.CheckVoice(c.Voice[0], stored) != nil {
		t.Fatalf("stored voice: %v", err)
	}
	es, _ := v.Store.Entries(v.Store.Feed(), 1, 1<<20)
	last := es[len(es)-1]
	if bytes.Contains(last.Body, stored[len(stored)-64:]) || len(last.Body) > 2000 {
		t.Fatalf("the voice bytes are in the entry (%d bytes)", len(last.Body))
	}
	if refs := appliance.PhotoRefs(last); len(refs) != 1 || refs[0] != c.Voice[0] {
		t.Fatalf("refs %v", refs)
	}

	r, err = v.Cases.RegisterCase(ctx, "", bolt.CaseIntake{Category: appliance.CategoryOther, Source: appliance.SourceKiosk, Group: group, Phrases: []string{"说不清"}, Callback: true, Phone: "138 1234 5678"})
	if err != nil {
		t.Fatal(err)
	}
	c, _ = v.Cases.Case(r.Code)
	if c.Level != appliance.CaseLevelVillage || c.Group != group || c.Callback != appliance.CallbackWanted || c.Description != "点选：说不清" {
		t.Fatalf("triage report: %+v", c)
	}
	if rep, _ := v.Cases.Reporter(r.Code); rep.Phone != "13812345678" {
		t.Fatalf("reporter phone %q", rep.Phone)
	}
	queue, _, err := v.Cases.FindCases(bolt.CaseFilter{Callback: ptr(true)})
	if err != nil || len(queue) != 1 || queue[0].ID != r.Code {
		t.Fatalf("callback queue: %v %v", queue, err)
	}

	before, _ := v.Store.Stats()
	for name, in := range map[string]bolt.CaseIntake{
		"NoPhone":    {Category: "livelihood", Callback: true},
		"BadPhone":   {Category: "livelihood", Callback: true, Phone: "12345"},
		"Nothing":    {Category: "livelihood"},
		"BadVoice":   {Category: "livelihood", Voice: []byte("not a recording")},
		"LongPhrase": {Category: "livelihood", Phrases: []string{strings.Repeat("长", 31)}},
	} {
		in.Source = appliance.SourceKiosk
		if _, err := v.Cases.RegisterCase(ctx, "", in); appliance.ErrorCode(err) != appliance.EINVALID {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if after, _ := v.Store.Stats(); after.Entries != before.Entries {
		t.Fatal("a refused report wrote entries")
	}
	if _, err := v.Store.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

// A villager's own category choice at the kiosk never sends a case up by
// the clock: only once staff have taken it up or confirmed its category
// does an overdue 安全生产 case escalate itself.
func TestKioskCaseNotEscalatedUnconfirmed(t *testing.T) {
	ctx := context.Background()
	clk := &simClock{t: day(2, 9)}
	v := mustNode(t, appliance.NodeVillage, villageCode, "杏花村", clk, true)
	kiosk, err := v.Cases.RegisterCase(ctx, "", bolt.CaseIntake{Category: "work_safety", Source: appliance.SourceKiosk, Description: "河边没有护栏"})
	if err != nil {
		t.Fatal(err)
	}
	confirmed, err := v.Cases.RegisterCase(ctx, "", bolt.CaseIntake{Category: "livelihood", Source: appliance.SourceKiosk, Description: "井口没有盖子，很危险"})
	if err != nil {
		t.Fatal(err)
	}
	act(t, v, []string{appliance.CaseLevelVillage}, appliance.CaseStep{Case: confirmed.Code, Action: appliance.CaseClassify, Category: "work_safety"})
	clk.t = day(20, 9)
	n, err := v.Cases.EscalateOverdue(ctx, clk.t)
	if err != nil || n != 1 {
		t.Fatalf("escalated %d, %v; want only the confirmed case", n, err)
	}
	if c, _ := v.Cases.Case(kiosk.Code); c.Level != appliance.CaseLevelVillage || c.Escalations != 0 {
		t.Fatalf("unconfirmed kiosk case went up: %+v", c)
	}
	if due, _ := v.Cases.DueCases([]string{appliance.CaseLevelVillage}, clk.t); len(due) != 1 || due[0].Case.ID != kiosk.Code || !due[0].Overdue {
		t.Fatalf("the unconfirmed case is not listed as overdue: %+v", due)
	}
	if c, _ := v.Cases.Case(confirmed.Code); c.Level != appliance.CaseLevelTown {
		t.Fatalf("confirmed case at %s", c.Level)
	}
}

// Wrong PINs count for unknown codes as for real ones, and the answer says
// how many tries are left.
func TestTrackTriesLeft(t *testing.T) {
	clk := &simClock{t: day(2, 9)}
	v := mustNode(t, appliance.NodeVillage, villageCode, "杏花村", clk, true)
	r, err := v.Cases.RegisterCase(context.Background(), "", bolt.CaseIntake{Category: "livelihood", Source: appliance.SourceKiosk, Description: "村口路灯不亮"})
	if err != nil {
		t.Fatal(err)
	}
	bad := "0000"
	if r.PIN == bad {
		bad = "1111"
	}
	for _, code := range []string{r.Code, "ACDE-FHJK"} {
		if got := v.Cases.TriesLeft(code); got != 5 {
			t.Fatalf("%s: %d tries before any", code, got)
		}
		_, err := v.Cases.Track(code, bad)
		if !strings.Contains(appliance.ErrorMessage(err), "还可以再试4次") || v.Cases.TriesLeft(code) != 4 {
			t.Fatalf("%s: %v, %d left", code, err, v.Cases.TriesLeft(code))
		}
	}
	// Failures are forgotten after pin_lock without another.
	clk.t = clk.t.Add(31 * time.Minute)
	if got := v.Cases.TriesLeft(r.Code); got != 5 {
		t.Fatalf("after half an hour %d left", got)
	}
}
