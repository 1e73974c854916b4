package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// gridbox kiosk runs the screen's browser (the kiosk unit's ExecStart) and
// watches it: READY=1 once the screen's first page has called the node
// (/screen/beat), WATCHDOG=1 while its pages keep calling; a browser that
// stops calling for --hang (hung) is ended, and one that exits ends this
// command, so that systemd starts both again.
func runKiosk(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("kiosk", "[--url URL] [--hang DURATION] -- BROWSER [ARGS...]")
	url := fs.String("url", "http://127.0.0.1:8080/", "the node as the screen reaches it")
	hang := fs.Duration("hang", 90*time.Second, "a screen silent this long is hung")
	poll := fs.Duration("poll", 5*time.Second, "how often to ask the node")
	start := fs.Duration("start", 5*time.Minute, "time the browser has to show its first page")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return usageError{"kiosk: the browser command is missing (after --)"}
	}
	base := strings.TrimSuffix(*url, "/")
	client := &http.Client{Timeout: 5 * time.Second}
	// Wait for the node: a browser started before it would show an error.
	notify("STATUS=waiting for the node at " + base)
	for {
		if resp, err := client.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	cmd := exec.Command(fs.Arg(0), fs.Args()[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("kiosk: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		syscall.Kill(-cmd.Process.Pid, syscall.SIGCONT) // a stopped process takes SIGTERM only once continued
		select {
		case <-exited:
			// What is left of the browser's group (renderers still stopping).
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		case <-time.After(5 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}
	seen := func() time.Time {
		resp, err := client.Get(base + "/healthz/screen")
		if err != nil {
			return time.Time{}
		}
		defer resp.Body.Close()
		var v struct {
			SeenMS int64 `json:"seen_ms"`
		}
		if json.NewDecoder(resp.Body).Decode(&v) != nil || v.SeenMS == 0 {
			return time.Time{}
		}
		return time.UnixMilli(v.SeenMS)
	}
	ready := false
	tick := time.NewTicker(*poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			stop()
			return nil
		case err := <-exited:
			return fmt.Errorf("kiosk: the browser exited: %v", err)
		case <-tick.C:
		}
		last := seen()
		switch {
		case !last.Before(began.Add(-time.Second)) && time.Since(last) < *hang:
			if !ready {
				ready = true
				fmt.Fprintf(stdout, "kiosk screen ready %.1f s after the browser started\n", time.Since(began).Seconds())
				notify("READY=1\nSTATUS=the screen shows the node")
			}
			notify("WATCHDOG=1")
		case ready || time.Since(began) > *start:
			fmt.Fprintf(stdout, "kiosk screen silent since %s: the browser is hung; ending it\n", last.Format(time.TimeOnly))
			stop()
			return errors.New("kiosk: the browser hung")
		}
	}
}
