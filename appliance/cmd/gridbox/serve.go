package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/print"
	"gridbox/replicate"
	"gridbox/ui"
)

// Main is a running node; end-to-end tests start the real program with it.
type Main struct {
	Data      string
	Listen    string // overrides the configuration when set
	TLSListen string // overrides http.tls_listen when set ("off" turns HTTPS off)
	Log       *slog.Logger
	Out       io.Writer        // where start-up lines for people go
	Now       func() time.Time // wall clock; tests inject one
	// BackupTicks wakes the nightly backup's check; nil: each minute.
	BackupTicks <-chan time.Time
	// ClockTicks wakes the check of the parent's clock; nil: every 10 minutes.
	ClockTicks <-chan time.Time
	// ParentHTTP is the parent's web address (http://host:port) for its
	// clock; "" takes it from replication.
	ParentHTTP string
	// Releases is the folder of installed releases (gridbox upgrade); ""
	// when the node does not run from one.
	Releases string

	Config  appliance.Config
	Store   *bolt.Store
	Server  *ui.Server
	Addr    net.Addr // where HTTP listens, once Run returned
	TLSAddr net.Addr // where HTTPS listens; nil when it is off

	Replicator *replicate.Replicator // nil unless replicate.bind is set

	cancel  context.CancelFunc
	done    chan error
	closers []func()
	restart chan struct{} // the admin socket asks the node to exit for a restart

	clock *clockWatch

	pending        *upgradeRecord // this binary is a pending upgrade
	upgradeTimer   *time.Timer
	refusedRelease string // ETag of a release from the parent that was refused

	// SetClock sets the system clock (serve --set-clock); nil: the node
	// only corrects its own counting by the parent's time.
	SetClock func(time.Time) error
}

// Run opens the node and starts serving; it returns once the node listens.
func (m *Main) Run(ctx context.Context) error {
	if m.Log == nil {
		m.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	if m.Out == nil {
		m.Out = io.Discard
	}
	if m.Now == nil {
		m.Now = time.Now
	}
	m.restart = make(chan struct{}, 1)
	m.releaseAtStart()
	start := time.Now()
	s, cfg, err := bolt.OpenDataDir(m.Data, nil)
	if err != nil {
		return err
	}
	m.Store, m.Config = s, cfg
	m.closers = append(m.closers, func() { s.Close() })
	if n := cfg.Limits.MemoryMiB; n > 0 && os.Getenv("GOMEMLIMIT") == "" {
		// A 1 GB box shares its memory with the kiosk browser and CUPS:
		// collect garbage (password hashes, uploads) before growing.
		debug.SetMemoryLimit(int64(n) << 20)
	}
	if m.Listen != "" {
		m.Config.HTTP.Listen = m.Listen
	}
	switch m.TLSListen {
	case "":
	case "off":
		m.Config.HTTP.TLSListen = ""
	default:
		m.Config.HTTP.TLSListen = m.TLSListen
	}
	if m.Server, err = ui.NewServer(m.Config, s, m.Log); err != nil {
		return err
	}
	m.clock = &clockWatch{now: m.Now, last: s.Clock().Last}
	m.connectSystem(start)
	m.Server.SetClock(m.clock.State)
	m.serveHandDown()
	if m.Server.Printing, err = print.NewService(s, m.Config, filepath.Join(m.Data, "print-jobs")); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", m.Config.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", m.Config.HTTP.Listen, err)
	}
	m.Addr = ln.Addr()
	var tlsLn net.Listener
	if addr := m.Config.HTTP.TLSListen; addr != "" {
		cert, err := appliance.EnsureTLSCert(m.Data, m.Config.Node.Name)
		if err != nil {
			ln.Close()
			return err
		}
		raw, err := net.Listen("tcp", addr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on %s (https): %w", addr, err)
		}
		m.TLSAddr = raw.Addr()
		tlsLn = tls.NewListener(raw, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		_, port, _ := net.SplitHostPort(m.TLSAddr.String())
		m.Server.SetTLS(port, appliance.CertFingerprint(cert))
	}
	if err := m.startReplication(ctx); err != nil {
		ln.Close()
		if tlsLn != nil {
			tlsLn.Close()
		}
		return err
	}
	// After replication: its handlers reach m.Replicator.
	closeSock, err := serveAdminSocket(ctx, m)
	if err != nil {
		ln.Close()
		return err
	}
	m.closers = append(m.closers, closeSock)
	sctx, cancel := context.WithCancel(ctx)
	m.cancel = cancel
	m.done = make(chan error, 1)
	go func() { m.done <- m.Server.Serve(sctx, ln) }()
	if tlsLn != nil {
		go m.Server.ServeListener(tlsLn) // stops with the server
	}
	if addr := os.Getenv("GRIDBOX_PPROF"); addr != "" {
		// Profiling for whoever measures the box (docs/performance.md);
		// never set on a box in a village.
		go http.ListenAndServe(addr, pprofMux())
	}
	if err := m.releaseServing(ctx); err != nil {
		return err
	}
	notify("READY=1\nSTATUS=serving at " + m.Addr.String())
	go m.backupLoop(sctx, m.Now, m.BackupTicks)
	go m.parentLoop(sctx, m.ClockTicks)
	go feedWatchdog(sctx, m.probeWriter, func(err error) { m.Log.Error("watchdog not fed", "err", err) })
	m.Log.Info("serving", "role", m.Config.Node.Role, "code", m.Config.Node.Code, "addr", m.Addr.String(), "startup_ms", time.Since(start).Milliseconds(), "views_rebuilt", s.ViewsRebuilt)
	return nil
}

// Wait blocks until the server stops.
func (m *Main) Wait() error { return <-m.done }

// Close stops serving and closes the store.
func (m *Main) Close() error {
	var err error
	if m.cancel != nil {
		m.cancel()
		err = <-m.done
	}
	for i := len(m.closers) - 1; i >= 0; i-- {
		m.closers[i]()
	}
	return err
}

func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	return mux
}

// TLSURL returns the HTTPS address of the staff pages.
func (m *Main) TLSURL() string {
	addr := m.TLSAddr.String()
	if host, port, err := net.SplitHostPort(addr); err == nil && (host == "::" || host == "0.0.0.0" || host == "") {
		addr = "localhost:" + port
	}
	return "https://" + addr + "/"
}

// URL returns the address people open in a browser.
func (m *Main) URL() string {
	addr := m.Addr.String()
	if host, port, err := net.SplitHostPort(addr); err == nil && (host == "::" || host == "0.0.0.0" || host == "") {
		addr = "localhost:" + port
	}
	return "http://" + addr + "/"
}

func runServe(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("serve", "--data DIR [--listen ADDR] [--tls-listen ADDR|off] [--releases DIR] [--setup] [--set-clock]")
	data := fs.String("data", "", "data folder of the node")
	listen := fs.String("listen", "", "HTTP address, e.g. :8080 (default from the configuration)")
	tlsListen := fs.String("tls-listen", "", "HTTPS address for staff pages, e.g. :8443, or off (default from the configuration)")
	releases := fs.String("releases", "", "folder of installed releases, for upgrades (the image's: "+DefaultReleases+")")
	setup := fs.Bool("setup", false, "without a node in --data, show the setup page on the box's screen first")
	setupKey := fs.String("setup-release-key", "/etc/gridbox-release.key", "with --setup: file holding the county's release key, if any")
	setupBackup := fs.String("setup-backup-dir", "", "with --setup: folder for the nightly backups")
	setClock := fs.Bool("set-clock", false, "set the system clock from the parent's when it is judged wrong (needs CAP_SYS_TIME)")
	if err := parse(fs, args, "data"); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(*data, appliance.ConfigFile)); *setup && errors.Is(err, os.ErrNotExist) {
		done, err := runSetup(ctx, *data, *listen, *setupKey, *setupBackup, stdout)
		if err != nil || !done {
			return err
		}
	}
	if *releases != "" {
		openReleases(*releases, stdout)
	}
	m := &Main{Data: *data, Listen: *listen, TLSListen: *tlsListen, Out: stdout, Releases: *releases}
	if *setClock {
		m.SetClock = setSystemClock
	}
	if err := m.Run(ctx); err != nil {
		m.Close()
		return err
	}
	fmt.Fprintf(stdout, "gridbox %s %s (%s) is serving at %s\n", m.Config.Node.Role, m.Config.Node.Name, m.Config.Node.Code, m.URL())
	if m.TLSAddr != nil {
		fmt.Fprintf(stdout, "staff pages over HTTPS at %s (certificate fingerprint on the system page)\n", m.TLSURL())
	}
	if accounts, err := m.Store.DemoAccounts(); err == nil && len(accounts) > 0 {
		fmt.Fprintln(stdout, "demo accounts (demo data only):")
		for _, a := range accounts {
			fmt.Fprintf(stdout, "  %-10s %-14s password %s\n", a.Username, a.RoleLabel, a.Password)
		}
		fmt.Fprintf(stdout, "staff login: %slogin\n", m.URL())
	}
	select {
	case <-ctx.Done():
	case <-m.restart:
		m.Log.Info("exiting to be restarted (upgrade)")
	case err := <-m.done:
		m.done <- err
	}
	err := m.Close()
	if err != nil && !errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), "closed") {
		return err
	}
	return nil
}

// runSetup serves the setup page until the installer has set the node up
// on the box's screen (done) or ctx ends.
func runSetup(ctx context.Context, data, listen, keyFile, backupDir string, stdout io.Writer) (done bool, err error) {
	cfg := appliance.DefaultConfig()
	if listen != "" {
		cfg.HTTP.Listen = listen
	}
	var releaseKey string
	if b, err := os.ReadFile(keyFile); err == nil {
		releaseKey = strings.TrimSpace(string(b))
	}
	provision := func(ctx context.Context, node appliance.Node, f ui.SetupForm) (ui.SetupResult, error) {
		res, err := provisionNode(ctx, data, node, provisionOptions{ReleaseKey: releaseKey, BackupDir: backupDir, DutyPhone: f.DutyPhone, AdminPassword: f.Password})
		if err != nil {
			return ui.SetupResult{}, err
		}
		return ui.SetupResult{Node: node, Key: res.Feed, AdminUsername: res.AdminUsername, TLSFingerprint: res.TLSFingerprint}, nil
	}
	ss, err := ui.NewSetupServer(cfg, provision, nil)
	if err != nil {
		return false, err
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return false, fmt.Errorf("listen on %s: %w", cfg.HTTP.Listen, err)
	}
	fmt.Fprintf(stdout, "no node in %s yet: the setup page is at http://%s/ (on the box's own screen)\n", data, ln.Addr())
	// Setting up takes a person minutes: systemd must not wait for it.
	notify("READY=1\nSTATUS=waiting for setup on the screen")
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go feedWatchdog(wctx, func() error { return nil }, func(error) {})
	res, err := ss.Serve(ctx, ln)
	if err != nil || res == nil {
		return false, err
	}
	fmt.Fprintf(stdout, "set up on the screen: %s node %s (%s), node key %s\n", res.Node.Role, res.Node.Name, res.Node.Code, res.Key)
	return true, nil
}

// openReleases lets other users run the installed releases: images before
// session 4 made the folder a systemd StateDirectory (mode 0750), so the
// kiosk unit, which runs as another user, failed with 203/EXEC on every
// start. The folder holds signed binaries, nothing secret.
func openReleases(dir string, stdout io.Writer) {
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm()&0o005 == 0o005 {
		return
	}
	if err := os.Chmod(dir, fi.Mode().Perm()|0o055); err != nil {
		fmt.Fprintf(stdout, "the releases folder %s is not open to the kiosk: %v\n", dir, err)
	}
}
