package main

import (
	"archive/tar"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"gridbox/appliance"
	"gridbox/ui"
)

// Releases handed down: a town (or the city) holds signed release files,
// one per architecture, in its data folder's releases-down/ (gridbox
// upgrade --hand-down) and serves them at /releases/ARCH. A child with
// [upgrade] from_parent asks for its architecture's each time it reaches
// its parent, checks the file with the county's release key it holds
// itself (the town is not trusted with more than passing it on), and
// installs it as gridbox upgrade does: the same swap, health check,
// rollback and ledger entry (with source "parent").

const handDownDir = "releases-down"

func handDownPath(data, arch string) string {
	return filepath.Join(data, handDownDir, arch+".release")
}

// handDownRelease checks file against key and puts it where the node
// serves it, replacing what it held for that architecture.
func handDownRelease(data, file string, key appliance.FeedID) (releaseInfo, error) {
	dir := filepath.Join(data, handDownDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return releaseInfo{}, err
	}
	info, bin, err := openRelease(file, key, dir, "")
	if err != nil {
		return info, err
	}
	os.Remove(bin)
	in, err := os.Open(file)
	if err != nil {
		return info, err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(dir, ".incoming-")
	if err != nil {
		return info, err
	}
	_, err = io.Copy(tmp, in)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), handDownPath(data, info.Arch))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return info, err
	}
	syncDir(dir)
	return info, nil
}

// releaseTag names a held release file in its ETag: the binary's SHA-256
// (a child compares it with what it runs), then the start of the
// signature (the same binary signed by another key is another file).
// The file is read unchecked: it was checked when it was put there, and
// the child checks it again.
func releaseTag(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	var info releaseInfo
	if h, err := tr.Next(); err != nil || h.Name != releaseManifest || h.Size > 4096 {
		return "", errors.New("not a release file")
	}
	if err := json.NewDecoder(tr).Decode(&info); err != nil || len(info.SHA256) != 64 {
		return "", errors.New("not a release file")
	}
	if h, err := tr.Next(); err != nil || h.Name != releaseSig || h.Size > 4096 {
		return "", errors.New("not a release file")
	}
	sig, _ := io.ReadAll(tr)
	if len(sig) < 8 {
		return "", errors.New("not a release file")
	}
	return info.SHA256 + "-" + hex.EncodeToString(sig[:8]), nil
}

// serveHandDown lets the web server hand the held releases down.
func (m *Main) serveHandDown() {
	ui.SetReleases(m.Server, func(arch string) (string, string, bool) {
		if arch != filepath.Base(arch) || strings.HasPrefix(arch, ".") {
			return "", "", false
		}
		path := handDownPath(m.Data, arch)
		tag, err := releaseTag(path)
		if err != nil {
			return "", "", false
		}
		return path, tag, true
	})
}

// releaseFetchTimeout bounds one download: 35 MB over a slow 4G link.
const releaseFetchTimeout = 15 * time.Minute

// fetchFromParent asks the parent at base for a release for this box's
// architecture and installs it unless it is the one running or one that
// was rolled back here before; the node then exits to be restarted into
// it. It reports whether it installed one.
func (m *Main) fetchFromParent(ctx context.Context, base string) (bool, error) {
	up := m.Config.Upgrade
	if !up.FromParent || m.Releases == "" || up.ReleaseKey == "" || m.pending != nil {
		return false, nil
	}
	if ok, _ := readJSONFile(filepath.Join(m.Releases, "pending.json"), &upgradeRecord{}); ok {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, releaseFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/releases/"+runtime.GOARCH, nil)
	if err != nil {
		return false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return false, nil // the parent holds none
	case resp.StatusCode != http.StatusOK:
		return false, fmt.Errorf("parent's release: %s", resp.Status)
	}
	etag := strings.Trim(resp.Header.Get("ETag"), `"`)
	sum, _, _ := strings.Cut(etag, "-")
	if len(sum) != 64 {
		return false, errors.New("parent's release: no SHA-256 in its ETag")
	}
	tag := "-" + sum[:12]
	if m.refusedRelease == etag {
		return false, nil // refused before: not downloaded again until the node restarts
	}
	if cur, _ := os.Readlink(filepath.Join(m.Releases, "current")); strings.HasSuffix(cur, tag) {
		return false, nil // running it
	}
	var last upgradeRecord
	if ok, _ := readJSONFile(filepath.Join(m.Releases, "last.json"), &last); ok && last.Result == resultRolledBack && strings.HasSuffix(last.To, tag) {
		return false, nil // it failed here: wait for the next one
	}
	tmp, err := os.CreateTemp(m.Releases, ".parent-")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	_, err = io.Copy(tmp, io.LimitReader(resp.Body, maxReleaseBin+1<<20))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("parent's release: %w", err)
	}
	key, _ := appliance.ParseFeedID(up.ReleaseKey)
	rec, err := installRelease(tmp.Name(), key, m.Releases, up.HealthyWithin.Duration, time.Now(), "parent")
	if err != nil {
		m.refusedRelease = etag
		return false, fmt.Errorf("parent's release: %w", err)
	}
	m.Log.Warn("release from the parent installed: restarting into it", "from", rec.FromVersion, "to", rec.ToVersion)
	select {
	case m.restart <- struct{}{}:
	default:
	}
	return true, nil
}
