package ui

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/sync/semaphore"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// GET /api/v1/events: a server-sent event stream of case arrivals and
// changes, for a town's screen or an integrator (docs/api.md). Each event
// is a case entry as this node stored it, numbered by the arrival log
// (appliance/bolt/arrivals.go); the number is the event id, so a client
// resumes with Last-Event-ID (or ?after=) and misses nothing. Without
// either the stream starts at the present. A comment line every
// heartbeat keeps proxies from closing an idle stream and shows a dead
// client. Streams are bounded (maxEventStreams): past it the answer is
// 503 busy.

// maxEventStreams bounds open streams: each holds a connection and a
// goroutine on a box with 1 GB.
const maxEventStreams = 16

// eventBatch bounds the events read from the log at once.
const eventBatch = 200

// caseEvent is the data of one event.
type caseEvent struct {
	ID     uint64      `json:"id"`     // the event id (arrival number)
	Action string      `json:"action"` // the step: register, assign, escalate … (relayed steps too)
	At     time.Time   `json:"at"`     // the step's time
	Feed   string      `json:"feed"`   // the entry that carried it
	Seq    uint64      `json:"seq"`
	Case   caseSummary `json:"case"` // the case as it stands now
}

// caseSummary is a case without its description and history.
type caseSummary struct {
	ID          string    `json:"id"`
	Category    string    `json:"category"`
	Subcategory string    `json:"subcategory,omitempty"`
	Village     string    `json:"village"`
	Group       string    `json:"group,omitempty"`
	Level       string    `json:"level"`
	Status      string    `json:"status"`
	Due         string    `json:"due,omitempty"`
	Departments []string  `json:"departments,omitempty"`
	Reported    time.Time `json:"reported"`
	Updated     time.Time `json:"updated"`
}

type eventHub struct {
	streams *semaphore.Weighted
	done    chan struct{} // closed when the server shuts down
	mu      sync.Mutex
	wake    chan struct{} // closed and replaced after each commit with a case entry
}

func init() {
	registerRoutes(func(s *Server) {
		h := &eventHub{streams: semaphore.NewWeighted(maxEventStreams), wake: make(chan struct{}), done: make(chan struct{})}
		s.Store.OnCommit(func(es []*appliance.Entry) {
			for _, e := range es {
				if strings.HasPrefix(e.Kind, "case.") {
					h.mu.Lock()
					close(h.wake)
					h.wake = make(chan struct{})
					h.mu.Unlock()
					return
				}
			}
		})
		s.app.Hooks().OnShutdown(func() error { close(h.done); return nil })
		s.app.Get("/api/v1/events", s.require(appliance.PermViewCases), func(c *fiber.Ctx) error { return s.streamEvents(c, h) })
	})
}

func (h *eventHub) waiter() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.wake
}

func (s *Server) streamEvents(c *fiber.Ctx, h *eventHub) error {
	after, err := eventCursor(c)
	if err != nil {
		return err
	}
	if after < 0 { // from now on
		_, last, err := s.Store.Arrivals(0, 0)
		if err != nil {
			return err
		}
		after = int64(last)
	}
	if !h.streams.TryAcquire(1) {
		c.Set(fiber.HeaderRetryAfter, "30")
		return appliance.Errorf(appliance.EBUSY, "事件流的连接数已满（最多%d个），请稍后再连", maxEventStreams)
	}
	group := groupScope(currentUser(c))
	beat := s.EventHeartbeat
	if beat <= 0 {
		beat = 15 * time.Second
	}
	c.Set(fiber.HeaderContentType, "text/event-stream; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("X-Accel-Buffering", "no")
	conn := c.Context().Conn()
	c.Context().SetBodyStreamWriter(func(bw *bufio.Writer) {
		defer h.streams.Release(1)
		// The server's write timeout is for answers, not streams: each
		// flush has its own deadline.
		w := deadlineWriter{bw, conn, 2*beat + 10*time.Second}
		cursor := uint64(after)
		fmt.Fprintf(w, "retry: 3000\n: gridbox 事件流，从 %d 之后开始\n\n", cursor)
		if w.Flush() != nil {
			return
		}
		tick := time.NewTicker(beat)
		defer tick.Stop()
		for {
			wake := h.waiter() // before reading: a commit in between wakes us
			for {
				batch, _, err := s.Store.Arrivals(cursor, eventBatch)
				if err != nil {
					s.Log.Error("events: read arrivals", "err", err)
					return
				}
				for _, a := range batch {
					cursor = a.N
					ev, ok := s.caseEvent(a, group)
					if !ok {
						continue
					}
					data, _ := json.Marshal(ev)
					fmt.Fprintf(w, "id: %d\nevent: case\ndata: %s\n\n", a.N, data)
				}
				if len(batch) > 0 {
					// Skipped events still move the client's position.
					if w.Flush() != nil {
						return
					}
				}
				if len(batch) < eventBatch {
					break
				}
			}
			select {
			case <-wake:
			case <-tick.C:
				fmt.Fprintf(w, ": ping %d\n\n", cursor)
				if w.Flush() != nil {
					return // the client has gone
				}
			case <-h.done:
				return
			}
		}
	})
	return nil
}

// eventCursor is where a stream starts: Last-Event-ID, else ?after=,
// else -1 (now).
func eventCursor(c *fiber.Ctx) (int64, error) {
	field, v := "Last-Event-ID", c.Get("Last-Event-ID")
	if v == "" {
		field, v = "after", c.Query("after")
	}
	if v == "" {
		return -1, nil
	}
	n, err := strconv.ParseUint(v, 10, 63)
	if err != nil {
		return 0, appliance.FieldError(field, "%s 应为之前收到的事件编号（非负整数）", field)
	}
	return int64(n), nil
}

// caseEvent describes an arrival for a person limited to group ("" all).
func (s *Server) caseEvent(a bolt.Arrival, group string) (caseEvent, bool) {
	e := a.Entry
	var st appliance.CaseStep
	at := e.Time.Time()
	if e.Kind == appliance.KindCaseRelay {
		var r appliance.CaseRelay
		if e.DecodeBody(&r) != nil {
			return caseEvent{}, false
		}
		st, at = r.Step, r.At
	} else if e.DecodeBody(&st) != nil {
		return caseEvent{}, false
	}
	c, err := s.cases.Case(st.Case)
	if err != nil || group != "" && c.Group != group {
		return caseEvent{}, false
	}
	return caseEvent{ID: a.N, Action: st.Action, At: at, Feed: e.Feed.String(), Seq: e.Seq, Case: caseSummary{
		ID: c.ID, Category: c.Category, Subcategory: c.Subcategory, Village: c.Village, Group: c.Group, Level: c.Level,
		Status: c.Status, Due: c.Due, Departments: c.Departments, Reported: c.Reported, Updated: c.Updated,
	}}, true
}

// deadlineWriter moves the connection's write deadline on at each flush.
type deadlineWriter struct {
	*bufio.Writer
	conn interface{ SetWriteDeadline(time.Time) error }
	d    time.Duration
}

func (w deadlineWriter) Flush() error {
	w.conn.SetWriteDeadline(time.Now().Add(w.d))
	return w.Writer.Flush()
}
