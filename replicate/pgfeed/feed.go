package pgfeed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"gridbox/appliance/bolt"
)

// Source gives batches of a node's ledger after a position: the node's
// own store (StoreSource), or a serving node through its admin socket
// (HTTPSource).
type Source interface {
	Read(ctx context.Context, pos map[string]uint64, limit int) (*Batch, error)
}

// StoreSource reads an open store in this process.
type StoreSource struct{ Cases *bolt.Cases }

func (s StoreSource) Read(ctx context.Context, pos map[string]uint64, limit int) (*Batch, error) {
	return Read(s.Cases, pos, limit)
}

// request is what HTTPSource asks and Handler answers.
type request struct {
	Positions map[string]uint64 `json:"positions"`
	Limit     int               `json:"limit"`
}

// MaxBatch bounds the entries of one batch (and so one transaction).
const MaxBatch = 50000

// Handler answers HTTPSource from the serving node's store.
func Handler(cs *bolt.Cases) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req request
		if err := json.NewDecoder(io.LimitReader(r.Body, 16<<20)).Decode(&req); err != nil || req.Limit < 1 || req.Limit > MaxBatch {
			http.Error(w, "bad feed request", http.StatusBadRequest)
			return
		}
		b, err := Read(cs, req.Positions, req.Limit)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(b)
	}
}

// HTTPSource asks a serving node (Handler) for batches.
type HTTPSource struct {
	Client *http.Client
	URL    string
}

func (h HTTPSource) Read(ctx context.Context, pos map[string]uint64, limit int) (*Batch, error) {
	body, _ := json.Marshal(request{Positions: pos, Limit: limit})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	resp, err := h.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read from the node: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return nil, fmt.Errorf("the node refused: %s", bytes.TrimSpace(msg))
	}
	var b Batch
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
		return nil, fmt.Errorf("read from the node: %w", err)
	}
	return &b, nil
}

// Options of a feed.
type Options struct {
	URL    string // postgres://…
	Source string // the feeding node's key (hex): its own positions in the target
	Batch  int    // entries per transaction (5,000 when 0)
	Follow bool   // keep running: feed new entries as they arrive, reconnect when the database goes away
	Poll   time.Duration
	Log    *slog.Logger
}

// Result says what a feed did.
type Result struct {
	Entries, Batches, Cases, Steps int
	Reading, Writing               time.Duration // time spent on the node's side and on the database's
}

// Run feeds src into the database until everything held is in (one-shot)
// or ctx ends (follow). It resumes from the positions the database holds.
func Run(ctx context.Context, src Source, o Options) (Result, error) {
	if o.Batch <= 0 {
		o.Batch = 5000
	}
	o.Batch = min(o.Batch, MaxBatch)
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	var res Result
	var down time.Time // when the feed was interrupted (follow): the database or the node went away
	for {
		err := feedOnce(ctx, src, o, &res, &down)
		if err == nil || ctx.Err() != nil {
			return res, nil
		}
		if !o.Follow || !retryable(err) {
			return res, err
		}
		if down.IsZero() {
			down = time.Now()
			o.Log.Warn("feed: interrupted; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return res, nil
		case <-time.After(o.Poll):
		}
	}
}

// feedOnce connects and feeds until done (one-shot), ctx ends, or an
// error.
func feedOnce(ctx context.Context, src Source, o Options, res *Result, down *time.Time) error {
	sink, err := Connect(ctx, o.URL, o.Source)
	if err != nil {
		return err
	}
	defer sink.Close()
	pos, err := sink.Positions(ctx)
	if err != nil {
		return err
	}
	// The node reads the next batch while the database writes this one:
	// on two cores the feed takes about the longer of the two, not their sum.
	rctx, cancel := context.WithCancel(ctx)
	batches, done := make(chan readResult, 1), make(chan struct{})
	go readAhead(rctx, src, pos, o, batches, done)
	defer func() { cancel(); <-done }()
	for r := range batches {
		res.Reading += r.took
		if r.err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// The node, not the database: retrying the database would not help.
			return errors.Join(errNode, r.err)
		}
		if !down.IsZero() {
			o.Log.Info("feed: going on", "after", time.Since(*down).Round(time.Second))
			*down = time.Time{}
		}
		b := r.b
		if b.Entries > 0 {
			t0 := time.Now()
			err := sink.Write(ctx, b)
			res.Writing += time.Since(t0)
			if err != nil {
				return err
			}
			res.Entries += b.Entries
			res.Batches++
			res.Cases += len(b.Cases)
			res.Steps += len(b.Steps)
		}
		if !b.More && !o.Follow {
			return nil
		}
	}
	return nil // ctx ended
}

type readResult struct {
	b    *Batch
	err  error
	took time.Duration
}

// readAhead reads batches from pos on into out until the node has no
// more (one-shot), a read fails, or ctx ends.
func readAhead(ctx context.Context, src Source, pos map[string]uint64, o Options, out chan<- readResult, done chan<- struct{}) {
	defer close(done)
	defer close(out)
	for {
		t0 := time.Now()
		b, err := src.Read(ctx, pos, o.Batch)
		select {
		case out <- readResult{b, err, time.Since(t0)}:
		case <-ctx.Done():
			return
		}
		if err != nil {
			return
		}
		for _, p := range b.Positions {
			pos[p.Feed] = p.Seq
		}
		if b.More {
			continue
		}
		if !o.Follow {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(o.Poll):
		}
	}
}

var errNode = errors.New("feed: reading the node failed")
