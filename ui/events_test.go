package ui_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"gridbox/ui/internal/uitest"
)

type sseEvent struct {
	ID   uint64
	Kind string
	Data struct {
		ID     uint64 `json:"id"`
		Action string `json:"action"`
		Case   struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Group  string `json:"group"`
		} `json:"case"`
	}
	Ping bool
}

// openStream connects to /api/v1/events and delivers what arrives; it
// ends when the test does or cancel is called.
func openStream(t *testing.T, base, token, lastID string) (<-chan sseEvent, context.CancelFunc, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		return nil, cancel, res
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	out := make(chan sseEvent, 100)
	go func() {
		defer res.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(res.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Kind != "" || ev.Ping {
					out <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ": ping"):
				ev.Ping = true
			case strings.HasPrefix(line, "id: "):
				ev.ID, _ = strconv.ParseUint(line[4:], 10, 64)
			case strings.HasPrefix(line, "event: "):
				ev.Kind = line[7:]
			case strings.HasPrefix(line, "data: "):
				if err := json.Unmarshal([]byte(line[6:]), &ev.Data); err != nil {
					t.Errorf("event data %q: %v", line, err)
				}
			}
		}
	}()
	return out, cancel, res
}

// next returns the next case event, skipping heartbeats, within 10 s.
func next(t *testing.T, events <-chan sseEvent) sseEvent {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the stream ended")
			}
			if !ev.Ping {
				return ev
			}
		case <-deadline:
			t.Fatal("no event within 10 s")
		}
	}
}

// The event stream with a real HTTP client: arrivals and changes as they
// happen, heartbeats, resumption with Last-Event-ID (also after a
// restart), a grid leader's scope, and the bound on streams.
func TestEventStream(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{})
	srv.UI.EventHeartbeat = 200 * time.Millisecond
	lead := token(t, srv, "u-villagelead")
	events, stop, _ := openStream(t, srv.URL, lead, "")
	leader := token(t, srv, "u-gridleader") // group 410184104201-01
	mine, _, _ := openStream(t, srv.URL, leader, "")

	register := func(group string) string {
		t.Helper()
		code, _, r := call(t, srv.URL, "POST", "/api/v1/cases", lead, nil, map[string]any{"category": "public_affairs", "description": "路灯坏了一个星期", "source": "patrol", "group": group})
		if code != 201 {
			t.Fatalf("register: %d %v", code, r)
		}
		return r["code"].(string)
	}
	other := register("410184104201-02")
	ev := next(t, events)
	if ev.Kind != "case" || ev.Data.Action != "register" || ev.Data.Case.ID != other || ev.ID == 0 || ev.ID != ev.Data.ID {
		t.Fatalf("first event: %+v", ev)
	}
	own := register("410184104201-01")
	if ev := next(t, events); ev.Data.Case.ID != own {
		t.Fatalf("second event: %+v", ev)
	}
	// The grid leader sees their group's case only.
	if ev := next(t, mine); ev.Data.Case.ID != own {
		t.Fatalf("grid leader got %+v", ev)
	}
	if code, _, ans := call(t, srv.URL, "POST", "/api/v1/cases/"+own+"/assign", lead, nil, map[string]any{"assignee": "张建国"}); code != 200 {
		t.Fatalf("assign: %d %v", code, ans)
	}
	ev = next(t, events)
	if ev.Data.Action != "assign" || ev.Data.Case.Status != "handling" {
		t.Fatalf("assign event: %+v", ev)
	}
	last := ev.ID
	// A heartbeat while nothing happens.
	deadline := time.After(5 * time.Second)
	for ping := false; !ping; {
		select {
		case e := <-events:
			ping = e.Ping
		case <-deadline:
			t.Fatal("no heartbeat")
		}
	}
	stop()

	// Missed while away: resumed from the last id, nothing twice.
	if code, _, ans := call(t, srv.URL, "POST", "/api/v1/cases/"+own+"/note", lead, nil, map[string]any{"text": "已联系电工"}); code != 200 {
		t.Fatalf("note: %d %v", code, ans)
	}
	third := register("")
	srv.Restart(t)
	srv.UI.EventHeartbeat = 200 * time.Millisecond
	events, _, _ = openStream(t, srv.URL, lead, strconv.FormatUint(last, 10))
	if ev := next(t, events); ev.Data.Action != "note" || ev.ID != last+1 {
		t.Fatalf("resumed with %+v, want the note as %d", ev, last+1)
	}
	if ev := next(t, events); ev.Data.Case.ID != third {
		t.Fatalf("then %+v", ev)
	}
	// A bad Last-Event-ID names the header.
	if _, _, res := openStream(t, srv.URL, lead, "yesterday"); res.StatusCode != 400 {
		t.Fatalf("bad Last-Event-ID: %d", res.StatusCode)
	}

	// Bounded: the 17th stream at once is refused as busy.
	var refused *http.Response
	for i := 0; i < 20 && refused == nil; i++ {
		if _, _, res := openStream(t, srv.URL, lead, ""); res.StatusCode != 200 {
			refused = res
		}
	}
	if refused == nil || refused.StatusCode != http.StatusServiceUnavailable || refused.Header.Get("Retry-After") == "" {
		t.Fatalf("no stream was refused: %+v", refused)
	}
	var e map[string]any
	json.NewDecoder(refused.Body).Decode(&e)
	if c, _, _ := errorOf(e); c != "busy" {
		t.Fatalf("refusal: %v", e)
	}
	// Without a login: 401.
	if res, err := http.Get(srv.URL + "/api/v1/events"); err != nil || res.StatusCode != 401 {
		t.Fatalf("anonymous: %v %v", res.StatusCode, err)
	}
}
