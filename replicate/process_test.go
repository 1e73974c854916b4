package replicate_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// End-to-end tests with real gridbox processes on loopback.

// buildOnce builds a command once per test run.
type buildOnce struct {
	pkg, name string
	once      sync.Once
	bin       string
	err       error
}

func (b *buildOnce) path(t testing.TB) string {
	t.Helper()
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "gridbox-"+b.name+"-")
		if err != nil {
			b.err = err
			return
		}
		b.bin = filepath.Join(dir, b.name)
		if out, err := exec.Command("go", "build", "-o", b.bin, b.pkg).CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.bin
}

var gridboxBuild = &buildOnce{pkg: "gridbox/appliance/cmd/gridbox", name: "gridbox"}

// gridboxBin builds the real binary once per test run.
func gridboxBin(t testing.TB) string {
	t.Helper()
	return gridboxBuild.path(t)
}

func run(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command(gridboxBin(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("gridbox %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// freePort returns a port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	// Below the kernel's ephemeral range (32768 and up), where the
	// processes' own ":0" listeners cannot take it before it is used; free
	// for TCP and UDP, as memberlist binds both.
	for range 200 {
		port := 20000 + rand.IntN(12000)
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		pc, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		ln.Close()
		if err != nil {
			continue
		}
		pc.Close()
		return port
	}
	t.Fatal("no free port below the ephemeral range")
	return 0
}

// procNode is a node folder served by a gridbox process.
type procNode struct {
	t      testing.TB
	Data   string
	Code   string
	Gossip string
	Wrap   []string // command prefix, e.g. ip netns exec NS
	cmd    *exec.Cmd
	URL    string
	done   chan struct{}
}

var serveRE = regexp.MustCompile(`is serving at (http://\S+/)`)

// Serve starts `gridbox serve` and waits until it answers.
func (n *procNode) Serve() {
	n.t.Helper()
	n.t.Cleanup(n.Kill)
	if err := n.start(); err != nil {
		n.t.Fatal(err)
	}
}

// start is Serve for any goroutine: the caller kills the node.
func (n *procNode) start() error {
	args := append(append([]string(nil), n.Wrap...), gridboxBin(n.t), "serve", "--data", n.Data, "--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0")
	cmd := exec.Command(args[0], args[1:]...)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if testing.Verbose() {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	n.cmd, n.done = cmd, make(chan struct{})
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := serveRE.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
			}
		}
		cmd.Wait()
		close(n.done)
	}()
	select {
	case n.URL = <-urlc:
		return nil
	case <-n.done:
		return fmt.Errorf("gridbox serve %s exited", n.Code)
	case <-time.After(60 * time.Second):
		return fmt.Errorf("gridbox serve %s did not start", n.Code)
	}
}

// Kill ends the process with SIGKILL: no goodbye, no flush.
func (n *procNode) Kill() {
	if n.cmd != nil && n.cmd.Process != nil {
		n.cmd.Process.Kill()
		<-n.done
		n.cmd = nil
	}
}

// Stop ends the process with SIGTERM.
func (n *procNode) Stop() {
	if n.cmd != nil {
		n.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-n.done:
		case <-time.After(10 * time.Second):
			n.cmd.Process.Kill()
			<-n.done
		}
		n.cmd = nil
	}
}

// Metric reads one sample of /metrics (the first whose line contains all
// of match); -1 if absent.
func (n *procNode) Metric(name string, match ...string) float64 {
	resp, err := http.Get(n.URL + "metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
scan:
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+" ") && !strings.HasPrefix(line, name+"{") {
			continue
		}
		for _, m := range match {
			if !strings.Contains(line, m) {
				continue scan
			}
		}
		f := strings.Fields(line)
		v, _ := strconv.ParseFloat(f[len(f)-1], 64)
		return v
	}
	return -1
}

// PeakRSS is the process's peak resident memory in bytes.
func (n *procNode) PeakRSS() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", n.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			kb, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return kb << 10
		}
	}
	return -1
}

// CPU is the CPU time the process has used so far (user and system, all
// its threads), which other work on a shared machine changes less than
// the wall-clock time.
func (n *procNode) CPU() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", n.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	// Fields after the command's ")": state is 3, utime 14, stime 15.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// SampleAnonRSS samples the process's anonymous resident memory (its RSS
// without the data file's pages mapped in memory, which the kernel drops
// at will) every 100 ms until the returned function is called, which
// gives the peak.
func (n *procNode) SampleAnonRSS() func() int64 {
	var peak atomic.Int64
	stop, done := make(chan struct{}), make(chan struct{})
	status := fmt.Sprintf("/proc/%d/status", n.cmd.Process.Pid)
	go func() {
		defer close(done)
		for {
			if b, err := os.ReadFile(status); err == nil {
				if m := rssAnonRE.FindSubmatch(b); m != nil {
					kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
					peak.Store(max(peak.Load(), kb<<10))
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return func() int64 { close(stop); <-done; return peak.Load() }
}

var rssAnonRE = regexp.MustCompile(`RssAnon:\s+(\d+) kB`)

// withStore opens the node's store while no process serves it.
func (n *procNode) withStore(fn func(s *bolt.Store)) {
	n.t.Helper()
	s, _, err := bolt.OpenDataDir(n.Data, &bolt.Options{NoSync: true})
	if err != nil {
		n.t.Fatal(err)
	}
	defer s.Close()
	fn(s)
}

// procCluster makes a town and an enrolled village with command-line
// tools, with the short intervals of tests (--fast).
func procCluster(t testing.TB) (town, village *procNode) {
	t.Helper()
	return procClusterWith(t, true, nil)
}

// procClusterWith is procCluster with the production intervals unless
// fast, and the village's folder made by makeVillage (nil: gridbox init).
func procClusterWith(t testing.TB, fast bool, makeVillage func(dir string)) (town, village *procNode) {
	t.Helper()
	root := t.TempDir()
	key := run(t, "replication", "--new-key")
	town = &procNode{t: t, Data: filepath.Join(root, "town"), Code: townCode, Gossip: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	village = &procNode{t: t, Data: filepath.Join(root, "village"), Code: villageCode, Gossip: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	run(t, "init", "--data", town.Data, "--role", "town", "--code", townCode, "--name", "龙湖镇")
	if makeVillage != nil {
		makeVillage(village.Data)
	} else {
		run(t, "init", "--data", village.Data, "--role", "village", "--code", villageCode, "--name", "杏花村")
	}
	speed := []string{"--fast"}
	if !fast {
		speed = nil
	}
	run(t, append([]string{"replication", "--data", town.Data, "--bind", town.Gossip, "--keys", key}, speed...)...)
	run(t, append([]string{"replication", "--data", village.Data, "--bind", village.Gossip, "--parent", town.Gossip, "--keys", key}, speed...)...)
	run(t, "enrol", "--data", town.Data, "--key", run(t, "replication", "--data", village.Data, "--show-key"), "--code", villageCode, "--name", "杏花村")
	return town, village
}

// appendEntries writes entries made by gen into a stopped node.
func (n *procNode) appendEntries(count int, gen func(i int) appliance.Draft) (feed appliance.FeedID, head uint64) {
	n.withStore(func(s *bolt.Store) {
		for i := 0; i < count; {
			var drafts []appliance.Draft
			for ; i < count && len(drafts) < 1000; i++ {
				drafts = append(drafts, gen(i))
			}
			if _, err := s.Append(context.Background(), drafts...); err != nil {
				n.t.Fatal(err)
			}
		}
		feed = s.Feed()
		st, _ := s.Stats()
		head = st.Entries
	})
	return feed, head
}

func (n *procNode) entries() uint64 {
	var e uint64
	n.withStore(func(s *bolt.Store) { st, _ := s.Stats(); e = st.Entries })
	return e
}

func simpleCase(i int) appliance.Draft {
	return appliance.Draft{Author: "u-admin", Kind: "bench.case", Version: 1, Body: map[string]any{"n": i, "text": "村民反映村东头道路破损，雨天积水严重，影响出行。"}}
}

func TestProcessKilledMidBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs gridbox processes")
	}
	town, village := procCluster(t)
	feed, head := village.appendEntries(30000, simpleCase)
	want := float64(town.entries() + head)
	town.Serve()
	village.Serve()

	// Kill the receiver as soon as the first batches are stored.
	waitFor(t, 20*time.Second, "first entries at the town", func() bool {
		return town.Metric("gridbox_ledger_entries") > want-float64(head)
	})
	town.Kill()
	got := town.entries()
	t.Logf("town killed holding %d of %d entries", got, int(want))
	town.Serve()
	// Kill the sender mid-way too.
	waitFor(t, 20*time.Second, "more entries at the town", func() bool {
		return town.Metric("gridbox_ledger_entries") > float64(got)
	})
	village.Kill()
	village.Serve()
	waitFor(t, 30*time.Second, "all entries at the town", func() bool { return town.Metric("gridbox_ledger_entries") == want })
	town.Stop()
	village.Stop()
	for _, n := range []*procNode{town, village} {
		if out := run(t, "verify", "--data", n.Data); !strings.HasPrefix(out, "ok:") {
			t.Fatalf("verify %s: %s", n.Code, out)
		}
	}
	var a, b []*appliance.Entry
	town.withStore(func(s *bolt.Store) { a, _ = s.Entries(feed, 1, 1<<30) })
	village.withStore(func(s *bolt.Store) { b, _ = s.Entries(feed, 1, 1<<30) })
	if len(a) != len(b) || uint64(len(a)) != head {
		t.Fatalf("town holds %d entries of the village, village %d, want %d", len(a), len(b), head)
	}
	for i := range a {
		if a[i].Hash() != b[i].Hash() {
			t.Fatalf("entry %d differs", i+1)
		}
	}
}
