package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// simClock is a wall clock the test moves by hand.
type simClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *simClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *simClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// TestNightlyBackups: five weeks of nights (clock injected, the loop woken
// each simulated hour) with the serving node writing between them. Each
// night's copy is written to the stick's folder and checked; the folder
// keeps the newest copy of each of the last 7 days and of each of the last
// 4 weeks; a night without the stick is recorded as failed and the backup
// is made within the hour after the stick is back; the system page's state
// says when the last good one was made; and a copy from the folder
// restores into a node that verifies and holds what was written before it.
func TestNightlyBackups(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "node")
	stick := filepath.Join(dir, "stick")
	if err := os.Mkdir(stick, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := appliance.DefaultConfig()
	cfg.Backup.Dir, cfg.Backup.SeparateDisk = stick, false // one disk in a test
	node := appliance.Node{Role: "village", Code: "410184104201", Name: "杏花村"}
	if _, err := bolt.InitDataDir(context.Background(), data, node, bolt.InitOptions{AdminPassword: "xh-admin-8842", Config: &cfg}); err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	clock := &simClock{t: time.Date(2026, 3, 2, 2, 30, 0, 0, loc)} // Monday, the first night's hour
	ticks := make(chan time.Time)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := &Main{Data: data, Listen: "127.0.0.1:0", TLSListen: "off", Now: clock.Now, BackupTicks: ticks}
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	// tick wakes the loop at t; the next send returns once it has finished.
	tick := func(at time.Time) {
		clock.Set(at)
		ticks <- at
		ticks <- at // the loop is back waiting: the first tick was handled
	}
	state := func() appliance.BackupState {
		var st appliance.BackupState
		if _, err := m.Store.LocalJSON(appliance.BackupStateKey, &st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	inFolder := func() []string {
		ents, _ := os.ReadDir(stick)
		var out []string
		for _, e := range ents {
			out = append(out, e.Name())
		}
		sort.Strings(out)
		return out
	}
	names := func(days ...string) []string {
		var out []string
		for _, d := range days {
			out = append(out, "410184104201-2026"+strings.ReplaceAll(d, "-", "")+"-023000.gridbox")
		}
		sort.Strings(out)
		return out
	}
	write := func(n int) {
		d := appliance.Draft{Author: "u-admin", Kind: appliance.KindNoticeSet, Version: 1, Body: appliance.Notice{
			Grid: node.Code, ID: fmt.Sprintf("n%d", n), Title: fmt.Sprintf("通知第%d号", n), Body: "本周六上午停水，请提前储水。", Published: "2026-03-02",
		}}
		if _, err := m.Store.Append(ctx, d); err != nil {
			t.Fatal(err)
		}
	}

	// The first night: the backup at start.
	ticks <- clock.Now()
	if st := state(); st.LastError != "" || !st.LastOK.Equal(clock.Now()) {
		t.Fatalf("first night: %+v", st)
	}
	start := clock.Now()
	for night := 1; night < 35; night++ {
		write(night)
		for h := 1; h <= 24; h++ {
			at := start.Add(time.Duration((night-1)*24+h) * time.Hour)
			if night == 10 && h == 24 { // 03-12 02:30: the stick is out
				os.Rename(stick, stick+".out")
				tick(at)
				st := state()
				if !strings.Contains(st.LastError, "备份盘未插入") || !st.LastOK.Equal(at.Add(-24*time.Hour)) {
					t.Fatalf("night without the stick: %+v", st)
				}
				os.Rename(stick+".out", stick)
				tick(at.Add(30 * time.Minute)) // not yet an hour since the try
				if st := state(); st.LastOK.Equal(at.Add(30 * time.Minute)) {
					t.Fatal("retried within the hour")
				}
				continue
			}
			tick(at)
		}
		if night == 13 { // after 03-15 02:30, a Sunday
			want := append(names("03-08", "03-09", "03-10", "03-11", "03-13", "03-14", "03-15"), "410184104201-20260312-033000.gridbox")
			sort.Strings(want)
			if got := inFolder(); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("after two weeks the folder holds\n%v\nwant\n%v", got, want)
			}
		}
	}
	// After five weeks (the last night 04-05, a Sunday): the last 7 days
	// and the newest of each of the last 4 weeks.
	want := names("03-15", "03-22", "03-29", "03-30", "03-31", "04-01", "04-02", "04-03", "04-04", "04-05")
	if got := inFolder(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("after five weeks the folder holds\n%v\nwant\n%v", got, want)
	}
	st := state()
	if st.LastError != "" || st.LastFile != filepath.Join(stick, want[len(want)-1]) || len(st.Kept) != len(want) {
		t.Fatalf("state after five weeks: %+v", st)
	}
	if st.Stale(st.LastOK.Add(47*time.Hour)) || !st.Stale(st.LastOK.Add(49*time.Hour)) {
		t.Fatal("a backup is stale after two days, not before")
	}

	// Restore the oldest weekly copy (03-15: notices 1–13 written before it).
	restored := filepath.Join(dir, "restored")
	var out bytes.Buffer
	if err := runRestore(ctx, []string{"--data", restored, "--from", filepath.Join(stick, want[0])}, &out); err != nil {
		t.Fatalf("restore: %v", err)
	}
	s, _, err := bolt.OpenDataDir(restored, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Verify(ctx); err != nil {
		t.Fatalf("restored node: %v", err)
	}
	for n, want := range map[int]bool{13: true, 14: false} {
		var got bool
		s.Read(func(tx *bolt.Tx) error {
			got = tx.Bucket("v_notices").Get([]byte(node.Code+"/"+fmt.Sprintf("n%d", n))) != nil
			return nil
		})
		if got != want {
			t.Errorf("restored copy of 03-15 holds notice %d: %v, want %v", n, got, want)
		}
	}
}

// TestRetainBackups: the rule alone, on a folder with gaps and two copies
// on one day.
func TestRetainBackups(t *testing.T) {
	loc := time.UTC
	var files []backupFile
	for _, s := range []string{"2026-04-05 02:30", "2026-04-05 01:00", "2026-04-03 02:30", "2026-03-20 02:30", "2026-03-01 02:30", "2026-02-20 02:30", "2026-02-10 02:30"} {
		tm, _ := time.ParseInLocation("2006-01-02 15:04", s, loc)
		files = append(files, backupFile{s, tm})
	}
	keep := retainBackups(files, 2, 3)
	var got []string
	for _, f := range files {
		if keep[f.Name] {
			got = append(got, f.Name)
		}
	}
	// Days: 04-05 (newest of it) and 04-03; weeks: 14 (04-05), 12 (03-20), 9 (03-01).
	if want := "2026-04-05 02:30,2026-04-03 02:30,2026-03-20 02:30,2026-03-01 02:30"; strings.Join(got, ",") != want {
		t.Fatalf("kept %v, want %s", got, want)
	}
}
