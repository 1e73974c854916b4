package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/replicate/pgfeed"
)

// runFeed streams the node's ledger, de-identified, into a PostgreSQL
// database (docs/replication.md, "Into PostgreSQL"). A serving node is
// read through its admin socket; a stopped one from its file.
func runFeed(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("feed", "--data DIR --postgres URL [--follow] [--batch N]")
	data := fs.String("data", "", "data folder of the node (serving or not)")
	url := fs.String("postgres", "", "target database, e.g. postgres://gridbox@db.example:5432/city?sslmode=verify-full")
	follow := fs.Bool("follow", false, "keep running: feed new entries as they arrive (the node must be serving), wait out database restarts")
	batch := fs.Int("batch", 5000, "entries per transaction")
	poll := fs.Duration("poll", time.Second, "follow: how often to look for new entries")
	if err := parse(fs, args, "data", "postgres"); err != nil {
		return err
	}
	if *batch < 1 || *batch > pgfeed.MaxBatch {
		return usageError{fmt.Sprintf("feed: --batch must be 1–%d", pgfeed.MaxBatch)}
	}
	sock := filepath.Join(*data, adminSocket)
	var src pgfeed.Source
	if conn, err := net.DialTimeout("unix", sock, time.Second); err == nil {
		conn.Close()
		src = pgfeed.HTTPSource{URL: "http://gridbox/feed", Client: &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, "unix", sock)
			}}}}
	} else if *follow {
		return fmt.Errorf("feed: --follow needs the node serving (it reads through the node's admin socket %s)", sock)
	} else {
		s, cfg, err := bolt.OpenDataDir(*data, nil)
		if err != nil {
			return err
		}
		defer s.Close()
		cs, err := bolt.NewCases(s, cfg)
		if err != nil {
			return err
		}
		src = pgfeed.StoreSource{Cases: cs}
	}
	key, err := nodeKeyOf(*data)
	if err != nil {
		return err
	}
	start := time.Now()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	res, err := pgfeed.Run(ctx, src, pgfeed.Options{URL: *url, Source: key, Batch: *batch, Follow: *follow, Poll: *poll, Log: log})
	fmt.Fprintf(stdout, "fed %d entries (%d cases, %d steps) in %d transactions, %s\n", res.Entries, res.Cases, res.Steps, res.Batches, time.Since(start).Round(time.Millisecond))
	if errors.Is(err, pgfeed.ErrBusy) {
		return fmt.Errorf("feed: %w", err)
	}
	return err
}

// nodeKeyOf is the node's feed id (hex), from its key file: the feed's
// name for its positions in the target.
func nodeKeyOf(data string) (string, error) {
	k, err := appliance.ReadNodeKey(filepath.Join(data, bolt.KeyFile))
	if err != nil {
		return "", err
	}
	var id appliance.FeedID
	copy(id[:], k.Public().(ed25519.PublicKey))
	return id.String(), nil
}

func init() {
	adminHandlers["/feed"] = func(m *Main) http.HandlerFunc {
		var once sync.Once
		var h http.HandlerFunc
		return func(w http.ResponseWriter, r *http.Request) {
			once.Do(func() {
				cs, err := bolt.NewCases(m.Store, m.Config)
				if err != nil {
					h = func(w http.ResponseWriter, _ *http.Request) {
						http.Error(w, err.Error(), http.StatusInternalServerError)
					}
					return
				}
				h = pgfeed.Handler(cs)
			})
			h(w, r)
		}
	}
}
