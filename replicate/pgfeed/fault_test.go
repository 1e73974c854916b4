package pgfeed_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"gridbox/appliance/bolt"
	"gridbox/replicate/pgfeed"
	"gridbox/replicate/pgfeed/pgtest"
)

// crashingSource crashes the database (pg_ctl stop -m immediate) when
// its batch number at is read: before the batch is written (wait), or
// while it is (the stop races the transaction).
type crashingSource struct {
	src   pgfeed.Source
	at    int32
	n     atomic.Int32
	wait  bool
	pg    *pgtest.Server
	done  chan error
	limit atomic.Int32 // largest batch asked for
}

func (c *crashingSource) Read(ctx context.Context, pos map[string]uint64, limit int) (*pgfeed.Batch, error) {
	b, err := c.src.Read(ctx, pos, limit)
	if c.n.Add(1) == c.at {
		if c.wait {
			c.done <- c.pg.Stop("immediate")
		} else {
			go func() { c.done <- c.pg.Stop("immediate") }()
			time.Sleep(time.Millisecond)
		}
	}
	return b, err
}

// TestFeedDatabaseCrash: the database crashes in the middle of a feed,
// twice: in one-shot mode the feed fails and a second run resumes; in
// follow mode the feed waits, reconnects and goes on. Afterwards the
// target holds exactly the town's rows, and the positions are its heads.
func TestFeedDatabaseCrash(t *testing.T) {
	cs := demoTown(t)
	pg := pgtest.Start(t)
	ctx := context.Background()
	opts := pgfeed.Options{URL: pg.URL(), Source: cs.Store.Feed().String(), Batch: 100}
	st, _ := cs.Store.Stats()

	// One-shot: the database is gone when the fifth batch is read.
	src := &crashingSource{src: pgfeed.StoreSource{Cases: cs}, at: 5, wait: true, pg: pg, done: make(chan error, 1)}
	res, err := pgfeed.Run(ctx, src, opts)
	if err == nil {
		t.Fatalf("feed with the database stopped succeeded: %+v", res)
	}
	if e := <-src.done; e != nil {
		t.Fatal(e)
	}
	// The node reads up to two batches ahead of the write in progress.
	if res.Batches < 2 || res.Batches > 4 {
		t.Errorf("%d batches written before the crash, want 2–4", res.Batches)
	}
	t.Logf("one-shot feed stopped by the crash: %v", err)
	pg.Start()
	conn := connect(t, pg.URL())
	var fed int64
	conn.QueryRow(ctx, "SELECT coalesce(sum(seq), 0) FROM gridbox.feed_positions").Scan(&fed)
	// The batch whose commit the crash cut off may be in or not: the
	// commit can be durable with its answer lost.
	if fed != int64(res.Entries) && fed != int64(res.Entries)+100 {
		t.Errorf("positions after the crash sum to %d entries, want the %d batches' %d (or one batch more)", fed, res.Batches, res.Entries)
	}
	conn.Close(ctx)

	// Follow: the crash races the 8th batch's transaction; the database
	// comes back 1 s later.
	src = &crashingSource{src: pgfeed.StoreSource{Cases: cs}, at: 8, pg: pg, done: make(chan error, 1)}
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	o := opts
	o.Follow, o.Poll = true, 50*time.Millisecond
	ran := make(chan pgfeed.Result, 1)
	go func() {
		res, err := pgfeed.Run(fctx, src, o)
		if err != nil {
			t.Errorf("follow: %v", err)
		}
		ran <- res
	}()
	if e := <-src.done; e != nil {
		t.Fatal(e)
	}
	time.Sleep(time.Second)
	pg.Start()
	conn = connect(t, pg.URL())
	deadline := time.Now().Add(60 * time.Second)
	for {
		var n int64
		conn.QueryRow(ctx, "SELECT coalesce(sum(seq), 0) FROM gridbox.feed_positions").Scan(&n)
		if uint64(n) == st.Entries {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("follow did not catch up after the database came back: %d of %d entries\n%s", n, st.Entries, pg.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	res = <-ran
	// As above, the batch whose commit answer the crash cut off may have
	// been durable: then it is in the positions, not in the count.
	if res.Entries+int(fed) < int(st.Entries)-opts.Batch {
		t.Errorf("follow fed %d entries, want at least the %d left less one batch", res.Entries, int(st.Entries)-int(fed))
	}
	checkPositions(t, conn, cs)
	sameRows(t, conn, cs)
}

// sameRows: the target holds exactly the rows a feed of everything at
// once gives: no case or step missing, none extra, each as the node holds
// it now.
func sameRows(t *testing.T, conn *pgx.Conn, cs *bolt.Cases) {
	t.Helper()
	all, err := pgfeed.Read(cs, map[string]uint64{}, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	var cases, steps []string
	for _, c := range all.Cases {
		cases = append(cases, fmt.Sprintf("%s|%s|%s|%d|%s|%s", c.ID, c.Status, c.Level, c.Escalations, c.TopLevel, c.Due))
	}
	for _, s := range all.Steps {
		steps = append(steps, fmt.Sprintf("%s|%s|%d|%d|%s|%t", s.Case, s.Feed, s.Seq, s.N, s.Action, s.Effective))
	}
	sort.Strings(cases)
	sort.Strings(steps)
	if len(cases) < 100 || len(steps) < 500 {
		t.Fatalf("%d cases, %d steps: too few to compare", len(cases), len(steps))
	}
	got := rowsOf(t, conn, "SELECT id || '|' || status || '|' || level || '|' || escalations || '|' || top_level || '|' || coalesce(to_char(due, 'YYYY-MM-DD'), '') FROM gridbox.cases")
	if d := diff(got, cases); d != "" {
		t.Errorf("cases differ from the node's (+ in SQL only, - missing):\n%s", d)
	}
	got = rowsOf(t, conn, "SELECT case_id || '|' || feed || '|' || seq || '|' || n || '|' || action || '|' || effective FROM gridbox.case_steps")
	if d := diff(got, steps); d != "" {
		t.Errorf("steps differ from the node's (+ in SQL only, - missing):\n%s", d)
	}
}

// rowsOf lists rows of a query as strings, sorted.
func rowsOf(tb testing.TB, conn *pgx.Conn, sql string) []string {
	tb.Helper()
	rows, err := conn.Query(context.Background(), sql)
	if err != nil {
		tb.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func diff(a, b []string) string {
	in := map[string]int{}
	for _, s := range a {
		in[s]++
	}
	for _, s := range b {
		in[s]--
	}
	var out []string
	for s, n := range in {
		if n != 0 {
			out = append(out, fmt.Sprintf("%+d %s", n, s))
		}
	}
	sort.Strings(out)
	if len(out) > 10 {
		out = append(out[:10], "…")
	}
	return strings.Join(out, "\n")
}
