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
	// Drain the socket all along, as systemd does: a full socket would block
	// the kiosk's next notification.
	msgs := make(chan string, 1024)
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				return
			}
			select {
			case msgs <- string(buf[:k]):
			default:
			}
		}
	}()
	// read returns what the kiosk said up to its first watchdog ping.
	read := func(d time.Duration) string {
		var all []string
		timeout := time.After(d)
		for {
			select {
			case m := <-msgs:
				all = append(all, m)
				if strings.Contains(m, "WATCHDOG=1") {
					return strings.Join(all, "|")
				}
			case <-timeout:
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
	// Killed processes take a moment to go; zombies waiting for init to reap
	// them are gone as far as the screen is concerned.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		ps, _ := exec.Command("ps", "-e", "-o", "pgid=,stat=").Output()
		live := 0
		for _, l := range strings.Split(string(ps), "\n") {
			if f := strings.Fields(l); len(f) == 2 && f[0] == itoa(pgid) && !strings.HasPrefix(f[1], "Z") {
				live++
			}
		}
		if live == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hung browser's processes are still there: %q", ps)
		}
	}

	// Dead: the browser killed.
	for len(msgs) > 0 {
		<-msgs // what the first kiosk said
	}
	cmd, out = start()
	if got := read(30 * time.Second); !strings.Contains(got, "READY=1") {
		t.Fatalf("second kiosk said %q:\n%s", got, out.String())
	}
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
