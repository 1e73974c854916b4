package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"gridbox/appliance"
)

// Signed upgrades. A release file is a tar of release.json (version,
// architecture, SHA-256 and size of the binary), release.sig (the county's
// release key's ed25519 signature over release.json) and the binary. The
// box runs the binary its releases folder's "current" link names (the
// unit's ExecStart); gridbox upgrade installs a release beside it, swaps
// the link atomically (the old one stays as "previous") and has the node
// restart. The new binary commits the upgrade once it serves and answers
// /healthz; until then pending.json says an upgrade is under way, and the
// guard run before each start by the previous (known good) binary
// (ExecStartPre) swaps back once [upgrade] healthy_within has passed: a
// release that crashes, hangs (systemd's start timeout ends it) or never
// becomes healthy is rolled back without anyone at the box.

const (
	releaseManifest = "release.json"
	releaseSig      = "release.sig"
	releaseBinary   = "gridbox"
	maxReleaseBin   = 256 << 20
	// DefaultReleases is where the image keeps the releases.
	DefaultReleases = "/var/lib/gridbox-releases"
	// releaseSigPrefix keeps release signatures apart from every other
	// signature a key could make.
	releaseSigPrefix = "gridbox release\x00"
)

// releaseInfo is release.json.
type releaseInfo struct {
	Version string `json:"version"`
	Arch    string `json:"arch"` // GOARCH: amd64, arm64, arm
	SHA256  string `json:"sha256"`
	Size    int64  `json:"size"`
}

// upgradeRecord is pending.json while an upgrade is under way, then
// last.json with its outcome.
type upgradeRecord struct {
	ID          string    `json:"id"`
	From        string    `json:"from"` // file names in the releases folder
	FromVersion string    `json:"from_version"`
	To          string    `json:"to"`
	ToVersion   string    `json:"to_version"`
	Started     time.Time `json:"started"`
	Deadline    time.Time `json:"deadline"`
	Result      string    `json:"result,omitempty"` // upgraded, rolled back
	Reason      string    `json:"reason,omitempty"`
	Seconds     float64   `json:"seconds,omitempty"`
	Recorded    bool      `json:"recorded,omitempty"` // written to the ledger
	Source      string    `json:"source,omitempty"`   // "parent": fetched from the town
}

const (
	resultUpgraded   = "upgraded"
	resultRolledBack = "rolled back"
)

// KindNodeRelease records an upgrade or a rollback in the node's own feed:
// it goes up to the town like every entry, so the county sees which boxes
// run what.
const KindNodeRelease = "node.release"

func elfArch(path string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", errors.New("not a Linux program")
	}
	defer f.Close()
	switch f.Machine {
	case elf.EM_X86_64:
		return "amd64", nil
	case elf.EM_AARCH64:
		return "arm64", nil
	case elf.EM_ARM:
		return "arm", nil
	}
	return "", fmt.Errorf("a program for %s", f.Machine)
}

func runReleaseKey(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("release-key", "--out FILE")
	out := fs.String("out", "", "file for the county's private release key (keep it off the boxes)")
	if err := parse(fs, args, "out"); err != nil {
		return err
	}
	key, err := appliance.GenerateNodeKey(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "release key written to %s; its public key (set it on every box: init --release-key, or GRIDBOX_RELEASE_KEY):\n%s\n", *out, hex.EncodeToString(key.Public().(ed25519.PublicKey)))
	return nil
}

func runRelease(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("release", "--key FILE --bin BINARY --version VERSION --out FILE")
	keyFile := fs.String("key", "", "the county's private release key (gridbox release-key)")
	bin := fs.String("bin", "", "the gridbox binary for the boxes (e.g. dist/gridbox-linux-arm64)")
	ver := fs.String("version", "", "its version; default: what the binary says")
	out := fs.String("out", "", "release file to write")
	if err := parse(fs, args, "key", "bin", "out"); err != nil {
		return err
	}
	key, err := appliance.ReadNodeKey(*keyFile)
	if err != nil {
		return err
	}
	arch, err := elfArch(*bin)
	if err != nil {
		return fmt.Errorf("release: %s: %w", *bin, err)
	}
	b, err := os.ReadFile(*bin)
	if err != nil {
		return err
	}
	if *ver == "" && arch == runtime.GOARCH {
		if o, err := exec.Command(*bin, "version").Output(); err == nil {
			*ver = strings.TrimPrefix(strings.TrimSpace(string(o)), "gridbox ")
		}
	}
	if *ver == "" {
		return usageError{"release: --version is required for a binary this machine cannot run"}
	}
	sum := sha256.Sum256(b)
	info, _ := json.Marshal(releaseInfo{Version: *ver, Arch: arch, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(b))})
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		b    []byte
		mode int64
	}{{releaseManifest, info, 0o644}, {releaseSig, ed25519.Sign(key, append([]byte(releaseSigPrefix), info...)), 0o644}, {releaseBinary, b, 0o755}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.b)), ModTime: time.Now()}); err != nil {
			return err
		}
		tw.Write(f.b)
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "release %s for %s written to %s (binary SHA-256 %s)\n", *ver, arch, *out, hex.EncodeToString(sum[:]))
	return nil
}

// openRelease checks a release file against the release key and writes its
// binary into dir under a temporary name, returning the name and what the
// release says. Nothing is written unless the signature verifies. arch is
// the architecture the release must be for; "" takes any (a town holds
// releases for its villages' boards).
func openRelease(file string, key appliance.FeedID, dir, arch string) (releaseInfo, string, error) {
	var info releaseInfo
	f, err := os.Open(file)
	if err != nil {
		return info, "", err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	next := func(name string, max int64) (*tar.Header, error) {
		h, err := tr.Next()
		if err != nil || h.Name != name || h.Size > max || h.Size < 0 {
			return nil, fmt.Errorf("not a release file (expected %s)", name)
		}
		return h, nil
	}
	if _, err := next(releaseManifest, 4096); err != nil {
		return info, "", err
	}
	manifest, _ := io.ReadAll(tr)
	if _, err := next(releaseSig, 4096); err != nil {
		return info, "", err
	}
	sig, _ := io.ReadAll(tr)
	if !ed25519.Verify(ed25519.PublicKey(key[:]), append([]byte(releaseSigPrefix), manifest...), sig) {
		return info, "", errors.New("refused: the release is not signed by this box's release key")
	}
	if err := json.Unmarshal(manifest, &info); err != nil || info.Version == "" || info.Size <= 0 || info.Size > maxReleaseBin {
		return info, "", errors.New("refused: release.json unreadable")
	}
	if arch != "" && info.Arch != arch {
		return info, "", fmt.Errorf("refused: the release is for %s, this box is %s", info.Arch, arch)
	}
	if _, err := next(releaseBinary, maxReleaseBin); err != nil {
		return info, "", err
	}
	tmp, err := os.CreateTemp(dir, ".incoming-")
	if err != nil {
		return info, "", err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(tr, maxReleaseBin))
	if err == nil {
		err = tmp.Sync()
	}
	tmp.Close()
	fail := func(e error) (releaseInfo, string, error) { os.Remove(tmp.Name()); return info, "", e }
	if err != nil {
		return fail(err)
	}
	if n != info.Size || hex.EncodeToString(h.Sum(nil)) != info.SHA256 {
		return fail(errors.New("refused: the binary does not match its signed SHA-256"))
	}
	if a, err := elfArch(tmp.Name()); err != nil || a != info.Arch {
		return fail(fmt.Errorf("refused: the binary is not a program for this box (%v)", err))
	}
	if err := os.Chmod(tmp.Name(), 0o755); err != nil {
		return fail(err)
	}
	return info, tmp.Name(), nil
}

func writeJSONFile(path string, v any) error {
	b, _ := json.MarshalIndent(v, "", "  ")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	if f, err := os.Open(tmp); err == nil {
		f.Sync()
		f.Close()
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}

func readJSONFile(path string, v any) (bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return true, json.Unmarshal(b, v)
}

// pointLink makes link name target, atomically (a new link renamed over it).
func pointLink(dir, link, target string) error {
	tmp := filepath.Join(dir, "."+link+".tmp")
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, link)); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

func runUpgrade(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("upgrade", "--data DIR [--releases DIR] [--no-wait] FILE | --data DIR --hand-down FILE | --guard")
	data := fs.String("data", "", "data folder of the node (its configuration holds the release key)")
	releases := fs.String("releases", DefaultReleases, "folder of the installed releases (its link current is what runs)")
	noWait := fs.Bool("no-wait", false, "do not wait for the new release to become healthy")
	guard := fs.Bool("guard", false, "before a start (ExecStartPre): roll back an upgrade not healthy in time")
	handDown := fs.Bool("hand-down", false, "on a town: hold FILE for the villages to fetch (those with [upgrade] from_parent)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if *guard {
		return guardUpgrade(*releases, time.Now(), stdout)
	}
	if fs.NArg() != 1 || *data == "" {
		fs.Usage()
		return usageError{"upgrade: --data and one release file are required"}
	}
	cfg, err := appliance.LoadConfig(filepath.Join(*data, appliance.ConfigFile))
	if err != nil {
		return err
	}
	if cfg.Upgrade.ReleaseKey == "" {
		return errors.New("upgrade: this box has no release key ([upgrade] release_key, set at provisioning): it installs no release")
	}
	key, _ := appliance.ParseFeedID(cfg.Upgrade.ReleaseKey)
	if *handDown {
		info, err := handDownRelease(*data, fs.Arg(0), key)
		if err != nil {
			return fmt.Errorf("upgrade: %w", err)
		}
		fmt.Fprintf(stdout, "holding %s for %s: children with [upgrade] from_parent fetch it when they next reach this node\n", info.Version, info.Arch)
		return nil
	}
	rec, err := installRelease(fs.Arg(0), key, *releases, cfg.Upgrade.HealthyWithin.Duration, time.Now(), "")
	if err != nil {
		return fmt.Errorf("upgrade: %w", err)
	}
	fmt.Fprintf(stdout, "installed %s (was %s); restarting the node\n", rec.ToVersion, rec.FromVersion)
	if err := postAdmin(*data, "/restart", struct{}{}); err != nil {
		fmt.Fprintf(stdout, "the node is not serving (%v): it runs %s at its next start\n", err, rec.ToVersion)
		return nil
	}
	if *noWait {
		return nil
	}
	// Wait for the outcome: the new release commits it, or the guard
	// rolls it back after the deadline.
	limit := time.Until(rec.Deadline) + 2*time.Minute
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		var last upgradeRecord
		if ok, _ := readJSONFile(filepath.Join(*releases, "last.json"), &last); ok && last.ID == rec.ID {
			if last.Result == resultUpgraded {
				fmt.Fprintf(stdout, "upgraded to %s: healthy %.1f s after the swap\n", last.ToVersion, last.Seconds)
				return nil
			}
			return fmt.Errorf("upgrade: rolled back to %s after %.1f s: %s", last.FromVersion, last.Seconds, last.Reason)
		}
	}
	return fmt.Errorf("upgrade: no outcome after %s; see journalctl -u gridbox", limit.Round(time.Second))
}

// installRelease checks file, puts its binary into the releases folder and
// swaps current to it, with pending.json saying so; source says where the
// file came from ("parent", or "" from the console).
func installRelease(file string, key appliance.FeedID, releases string, within time.Duration, now time.Time, source string) (upgradeRecord, error) {
	var rec upgradeRecord
	if ok, _ := readJSONFile(filepath.Join(releases, "pending.json"), &rec); ok {
		return rec, fmt.Errorf("an upgrade to %s is under way since %s", rec.ToVersion, rec.Started.Format(time.DateTime))
	}
	from, err := os.Readlink(filepath.Join(releases, "current"))
	if err != nil {
		return rec, fmt.Errorf("%s has no current release (a box installed from the image has one): %w", releases, err)
	}
	info, tmp, err := openRelease(file, key, releases, runtime.GOARCH)
	if err != nil {
		return rec, err
	}
	name := "gridbox-" + safeVersion(info.Version) + "-" + info.SHA256[:12]
	if name == filepath.Base(from) {
		os.Remove(tmp)
		return rec, fmt.Errorf("%s is the release running", info.Version)
	}
	// The binary must at least start and say its version on this box.
	out, err := exec.Command(tmp, "version").Output()
	if err != nil || strings.TrimSpace(string(out)) != "gridbox "+info.Version {
		os.Remove(tmp)
		return rec, fmt.Errorf("refused: the new binary does not run here (%v: %q)", err, bytes.TrimSpace(out))
	}
	if err := os.Rename(tmp, filepath.Join(releases, name)); err != nil {
		os.Remove(tmp)
		return rec, err
	}
	fromVersion := releaseVersion(filepath.Base(from))
	if out, err := exec.Command(filepath.Join(releases, "current"), "version").Output(); err == nil {
		fromVersion = strings.TrimPrefix(strings.TrimSpace(string(out)), "gridbox ")
	}
	rec = upgradeRecord{
		ID: fmt.Sprintf("%d", now.UnixNano()), From: filepath.Base(from), FromVersion: fromVersion,
		To: name, ToVersion: info.Version, Started: now, Deadline: now.Add(within), Source: source,
	}
	if err := writeJSONFile(filepath.Join(releases, "pending.json"), rec); err != nil {
		return rec, err
	}
	if err := pointLink(releases, "previous", rec.From); err != nil {
		return rec, err
	}
	return rec, pointLink(releases, "current", name)
}

func safeVersion(v string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, v)
}

// releaseVersion reads the version back from a release file name
// (gridbox-VERSION-SHA12); the image's first release follows it too.
func releaseVersion(name string) string {
	v := strings.TrimPrefix(name, "gridbox-")
	if i := strings.LastIndex(v, "-"); i > 0 {
		v = v[:i]
	}
	return v
}

// guardUpgrade runs before each start: an upgrade still pending after its
// deadline is rolled back (current points to the previous release again).
func guardUpgrade(releases string, now time.Time, stdout io.Writer) error {
	var rec upgradeRecord
	ok, err := readJSONFile(filepath.Join(releases, "pending.json"), &rec)
	if err != nil || !ok {
		return err
	}
	if now.Before(rec.Deadline) {
		fmt.Fprintf(stdout, "upgrade to %s under way: %s left to become healthy\n", rec.ToVersion, rec.Deadline.Sub(now).Round(time.Second))
		return nil
	}
	if err := rollBack(releases, rec, fmt.Sprintf("%s did not become healthy within %s", rec.ToVersion, rec.Deadline.Sub(rec.Started)), now); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rolled back to %s: %s did not become healthy in time\n", rec.FromVersion, rec.ToVersion)
	return nil
}

func rollBack(releases string, rec upgradeRecord, reason string, now time.Time) error {
	if err := pointLink(releases, "current", rec.From); err != nil {
		return err
	}
	rec.Result, rec.Reason, rec.Seconds = resultRolledBack, reason, now.Sub(rec.Started).Seconds()
	if err := writeJSONFile(filepath.Join(releases, "last.json"), rec); err != nil {
		return err
	}
	return os.Remove(filepath.Join(releases, "pending.json"))
}

// releaseAtStart is what serve does with the releases folder as it starts:
// if this binary is a pending upgrade it gets until the deadline to
// become healthy (else it exits, and the guard rolls back).
func (m *Main) releaseAtStart() {
	if m.Releases == "" {
		return
	}
	var rec upgradeRecord
	if ok, _ := readJSONFile(filepath.Join(m.Releases, "pending.json"), &rec); !ok || !m.isRelease(rec.To) {
		return
	}
	m.pending = &rec
	left := time.Until(rec.Deadline)
	if left < 0 {
		left = 0
	}
	m.upgradeTimer = time.AfterFunc(left, func() {
		m.Log.Error("new release not healthy in time: exiting for the guard to roll back", "version", rec.ToVersion)
		os.Exit(1)
	})
}

// isRelease reports whether this process runs the release file name.
func (m *Main) isRelease(name string) bool {
	self, err := os.Executable()
	if err != nil {
		return false
	}
	self, _ = filepath.EvalSymlinks(self)
	dir, _ := filepath.EvalSymlinks(m.Releases)
	return filepath.Dir(self) == dir && filepath.Base(self) == name
}

// releaseServing runs once the node serves: a pending upgrade to this
// binary is committed if /healthz answers ok; an outcome not yet in the
// ledger is recorded; releases other than current and previous are removed.
func (m *Main) releaseServing(ctx context.Context) error {
	if m.Releases == "" {
		return nil
	}
	if rec := m.pending; rec != nil {
		if err := m.selfHealthy(); err != nil {
			return fmt.Errorf("new release %s not healthy: %w", rec.ToVersion, err)
		}
		m.upgradeTimer.Stop()
		rec.Result, rec.Seconds = resultUpgraded, time.Since(rec.Started).Seconds()
		if err := writeJSONFile(filepath.Join(m.Releases, "last.json"), rec); err != nil {
			return err
		}
		if err := os.Remove(filepath.Join(m.Releases, "pending.json")); err != nil {
			return err
		}
		m.Log.Info("upgrade committed", "from", rec.FromVersion, "to", rec.ToVersion, "seconds", rec.Seconds)
		m.pruneReleases()
	}
	var last upgradeRecord
	if ok, _ := readJSONFile(filepath.Join(m.Releases, "last.json"), &last); ok && !last.Recorded {
		body := map[string]any{"from": last.FromVersion, "to": last.ToVersion, "result": last.Result, "seconds": last.Seconds, "views_rebuilt": m.Store.ViewsRebuilt}
		if last.Reason != "" {
			body["reason"] = last.Reason
		}
		if last.Source != "" {
			body["source"] = last.Source
		}
		if _, err := m.Store.Append(ctx, appliance.Draft{Kind: KindNodeRelease, Version: 1, Body: body}); err != nil {
			return err
		}
		last.Recorded = true
		if last.Result == resultRolledBack {
			m.Log.Error("an upgrade was rolled back", "from", last.FromVersion, "to", last.ToVersion, "reason", last.Reason)
		}
		return writeJSONFile(filepath.Join(m.Releases, "last.json"), last)
	}
	return nil
}

// selfHealthy asks the node's own /healthz, as anyone would.
func (m *Main) selfHealthy() error {
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(m.URL() + "healthz")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/healthz: %d %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	return nil
}

// pruneReleases removes release files other than current and previous.
func (m *Main) pruneReleases() {
	keep := map[string]bool{}
	for _, l := range []string{"current", "previous"} {
		if t, err := os.Readlink(filepath.Join(m.Releases, l)); err == nil {
			keep[filepath.Base(t)] = true
		}
	}
	ents, _ := os.ReadDir(m.Releases)
	var removed []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "gridbox-") && e.Type().IsRegular() && !keep[e.Name()] {
			if os.Remove(filepath.Join(m.Releases, e.Name())) == nil {
				removed = append(removed, e.Name())
			}
		}
	}
	sort.Strings(removed)
	if len(removed) > 0 {
		m.Log.Info("old releases removed", "files", strings.Join(removed, " "))
	}
}

func init() {
	adminHandlers["/restart"] = func(m *Main) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent)
			// The answer goes out before the node starts closing: closing
			// first lost it now and then (the upgrade saw EOF).
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
			select {
			case m.restart <- struct{}{}:
			default:
			}
		}
	}
}
