package main_test

import (
	"bytes"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestKioskScreen: gridbox kiosk runs a real (headless) Chromium on the
// node's kiosk home as the box's screen: READY=1 once the page has called
// the node, watchdog pings while it keeps calling; a browser that hangs
// (stopped) is ended after --hang and the command fails, so that systemd
// starts it again; a browser that dies ends the command at once.
func TestKioskScreen(t *testing.T) {
	requireTool(t, "chromium")
	data := filepath.Join(t.TempDir(), "node")
	mustToken(t, data)
	n := startNode(t, data, freePort(t))
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	start := func() (*exec.Cmd, *syncBuffer) {
		cmd := exec.Command(binPath, "kiosk", "--url", n.url+"/", "--hang", "3s", "--poll", "200ms", "--",
			"chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
			"--user-data-dir="+t.TempDir(), n.url+"/")
		cmd.Env = append(cmd.Environ(), "NOTIFY_SOCKET="+sock, "WATCHDOG_USEC=2000000")
		var out syncBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		// Chromium's crash handler leaves the browser's process group
		// (under systemd the unit's cgroup ends it) and keeps the pipes.
		cmd.WaitDelay = 2 * time.Second
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd, &out
	}
	read := func(d time.Duration) string {
		var all []string
		buf := make([]byte, 4096)
		conn.SetReadDeadline(time.Now().Add(d))
		for {
			k, err := conn.Read(buf)
			if err != nil {
				return strings.Join(all, "|")
			}
			all = append(all, string(buf[:k]))
			if strings.Contains(string(buf[:k]), "WATCHDOG=1") {
				return strings.Join(all, "|")
			}
		}
	}
	cmd, out := start()
	if got := read(30 * time.Second); !strings.Contains(got, "READY=1") || !strings.Contains(got, "WATCHDOG=1") {
		t.Fatalf("kiosk with a working browser said %q:\n%s", got, out.String())
	}
	// Hung: every process of the browser stopped.
	pgid := browserGroup(t, cmd.Process.Pid)
	syscall.Kill(-pgid, syscall.SIGSTOP)
	t.Cleanup(func() { syscall.Kill(-pgid, syscall.SIGKILL); syscall.Kill(-pgid, syscall.SIGCONT) })
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(out.String(), "browser is hung") {
			t.Fatalf("kiosk with a hung browser: %v\n%s", err, out.String())
		}
	case <-time.After(45 * time.Second):
		syscall.Kill(-pgid, syscall.SIGCONT)
		t.Fatalf("kiosk did not end a hung browser:\n%s", out.String())
	}
	if exec.Command("kill", "-0", "--", "-"+itoa(pgid)).Run() == nil {
		t.Error("the hung browser's processes are still there")
	}

	// Dead: the browser killed.
	cmd, out = start()
	read(30 * time.Second)
	syscall.Kill(-browserGroup(t, cmd.Process.Pid), syscall.SIGKILL)
	if err := cmd.Wait(); err == nil || !bytes.Contains([]byte(out.String()), []byte("exited")) {
		t.Fatalf("kiosk whose browser died: %v\n%s", err, out.String())
	}
}

// browserGroup returns the process group of the kiosk's child (the browser).
func browserGroup(t *testing.T, kiosk int) int {
	t.Helper()
	b, err := exec.Command("pgrep", "-P", itoa(kiosk)).Output()
	if err != nil {
		t.Fatalf("no browser under the kiosk command: %v", err)
	}
	pid, _ := strconv.Atoi(strings.Fields(string(b))[0])
	return pid // the browser leads its own group
}

func itoa(n int) string { return strconv.Itoa(n) }

