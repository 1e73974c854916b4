package main

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// TestWatchdog: under systemd (NOTIFY_SOCKET, WATCHDOG_USEC) the node says
// READY=1 once it serves and feeds the watchdog from its serve loop; a
// wedged ledger writer (here a write transaction held open, as a commit
// stuck in fsync would) stops the pings, so that systemd restarts the node,
// and they resume when the writer is free again.
func TestWatchdog(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "node")
	if _, err := bolt.InitDataDir(context.Background(), data, appliance.Node{Role: "village", Code: "410184104201", Name: "杏花村"}, bolt.InitOptions{AdminPassword: "xh-admin-8842"}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "300000") // pings every 100 ms
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := &Main{Data: data, Listen: "127.0.0.1:0", TLSListen: "off"}
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	// messages returns what arrives within d.
	messages := func(d time.Duration) []string {
		var out []string
		buf := make([]byte, 4096)
		end := time.Now().Add(d)
		for {
			conn.SetReadDeadline(end)
			n, err := conn.Read(buf)
			if err != nil {
				return out
			}
			out = append(out, string(buf[:n]))
		}
	}
	got := strings.Join(messages(time.Second), "|")
	if !strings.HasPrefix(got, "READY=1") || !strings.Contains(got, "WATCHDOG=1") {
		t.Fatalf("first second under systemd: %q, want READY=1 then WATCHDOG=1 pings", got)
	}
	tx, err := m.Store.DB().Begin(true)
	if err != nil {
		t.Fatal(err)
	}
	messages(250 * time.Millisecond) // a ping already on its way
	if got := messages(time.Second); len(got) > 0 {
		tx.Rollback()
		t.Fatalf("pings while the writer is wedged: %q", got)
	}
	tx.Rollback()
	if got := strings.Join(messages(time.Second), "|"); !strings.Contains(got, "WATCHDOG=1") {
		t.Fatalf("no pings after the writer came back: %q", got)
	}
}
