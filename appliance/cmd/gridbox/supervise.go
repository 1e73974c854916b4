package main

import (
	"context"
	"errors"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// Under systemd (Type=notify) the node says when it is ready and feeds the
// watchdog; elsewhere (NOTIFY_SOCKET unset) these do nothing.

// notify sends a state line ("READY=1", "STATUS=…") to systemd.
func notify(state string) {
	daemon.SdNotify(false, state)
}

// feedWatchdog pings systemd's watchdog at a third of its interval for as
// long as probe (which may block) comes back without error within that
// third. A wedged ledger writer (a commit stuck in fsync, a transaction
// never closed) stops the pings, and systemd kills and restarts the node.
// A probe still waiting is not started again, so wedged probes do not pile up.
func feedWatchdog(ctx context.Context, probe func() error, onMiss func(error)) {
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil || interval <= 0 {
		return
	}
	tick := time.NewTicker(interval / 3)
	defer tick.Stop()
	var pending chan error // the probe still out, if any
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if pending == nil {
			pending = make(chan error, 1)
			go func(ch chan error) { ch <- probe() }(pending)
		}
		select {
		case err := <-pending:
			pending = nil
			if err == nil {
				notify("WATCHDOG=1")
			} else {
				onMiss(err)
			}
		case <-time.After(interval / 3):
			onMiss(errWedged)
		case <-ctx.Done():
			return
		}
	}
}

var errWedged = errors.New("the ledger writer has not answered")

// probeWriter begins a write transaction and rolls it back at once: it
// waits for any writer holding bbolt's lock and writes nothing to the disk.
func (m *Main) probeWriter() error {
	tx, err := m.Store.DB().Begin(true)
	if err != nil {
		return err
	}
	return tx.Rollback()
}
