package replicate_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/replicate"
)

// Back in step at once, with the production intervals (a 5 s sync loop, the
// WAN memberlist timings): a restarted town or village is back in step in
// well under one loop period, because the village retries its parent with
// backoff from 100 ms after a failure or an unanswered offer, a restarted
// town joins the children it met before, and a key proof that arrives
// before its sender's update is kept, not dropped. Before, these took
// 3.0–9.5 s and 6.7–7.8 s (issue 14). The deadlines below are checks that
// nothing waits for the 5 s loop; the figures are in docs/performance.md.
const backInStep = 4 * time.Second

func prodPair(t *testing.T) (town, village *testNode) {
	t.Helper()
	town = MustOpenNode(t, appliance.NodeTown, townCode, "")
	town.Production = true
	town.Start()
	village = MustOpenNode(t, appliance.NodeVillage, villageCode, town.R.Addr())
	village.Production = true
	town.Enrol(village)
	village.Write(100)
	village.Start()
	waitCaughtUp(t, town, village, 10*time.Second)
	return town, village
}

func TestBackInStep(t *testing.T) {
	town, village := prodPair(t)
	t.Run("TownRestarts", func(t *testing.T) {
		town.Stop()
		town.Start() // same port, new process: new nonce, knows nobody
		start := time.Now()
		village.Write(100)
		waitCaughtUp(t, town, village, backInStep)
		t.Logf("100 entries after the town restarted: %s", time.Since(start).Round(time.Millisecond))
	})
	t.Run("TownKilled", func(t *testing.T) {
		// Killed and back before the village notices: the village still
		// holds the town as proved under its old nonce. The town's new
		// proof, which comes before memberlist's update, must be kept for
		// the update, not dropped and left to a challenge 2 s later.
		before := village.R.Challenges()
		town.R.Crash()
		town.R = nil
		village.Write(100)
		town.Start()
		start := time.Now()
		waitCaughtUp(t, town, village, backInStep)
		t.Logf("100 entries written while the town was killed, after it started: %s", time.Since(start).Round(time.Millisecond))
		if n := village.R.Challenges() - before; n != 0 {
			t.Errorf("the village challenged the restarted town %d times: its unasked proof was dropped", n)
		}
	})
	t.Run("TownDownWhileWriting", func(t *testing.T) {
		town.Stop()
		village.Write(100)
		time.Sleep(3 * time.Second) // the village tries and fails meanwhile
		town.Start()
		start := time.Now()
		waitCaughtUp(t, town, village, backInStep)
		t.Logf("100 entries written while the town was down, after it returned: %s", time.Since(start).Round(time.Millisecond))
	})
	t.Run("VillageReboots", func(t *testing.T) {
		village.Stop()
		village.Start()
		start := time.Now()
		village.Write(1) // the first report after the reboot
		waitCaughtUp(t, town, village, backInStep)
		t.Logf("first entry after the village restarted: %s", time.Since(start).Round(time.Millisecond))
	})
	sameFeed(t, town, village, village.Store.Feed())
}

// logLines collects the log records of a node.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// count is how many lines contain all of words.
func (l *logLines) count(words ...string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
lines:
	for _, line := range strings.Split(l.buf.String(), "\n") {
		for _, w := range words {
			if !strings.Contains(line, w) {
				continue lines
			}
		}
		n++
	}
	return n
}

func (tn *testNode) logTo() *logLines {
	l := &logLines{}
	tn.Log = slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelInfo}))
	return l
}

// peerStatus is what node says of the member with code.
func peerStatus(tn *testNode, code string) replicate.PeerStatus {
	for _, p := range tn.R.Status() {
		if p.Code == code {
			return p
		}
	}
	return replicate.PeerStatus{}
}

func hasNote(tn *testNode, problem string) bool {
	for _, n := range tn.R.Notes() {
		if n.Problem == problem {
			return true
		}
	}
	return false
}

// Each problem is said once per node and change, naming the node, and both
// sides can show it.
func TestLinkProblems(t *testing.T) {
	t.Run("WrongClusterKey", func(t *testing.T) {
		town := MustOpenNode(t, appliance.NodeTown, townCode, "")
		townLog := town.logTo()
		town.Start()
		village := MustOpenNode(t, appliance.NodeVillage, villageCode, town.R.Addr())
		other := make([]byte, 32)
		rand.Read(other)
		village.keys = [][]byte{other}
		villageLog := village.logTo()
		town.Enrol(village)
		village.Start()
		waitFor(t, 5*time.Second, "the wrong key seen on both sides", func() bool {
			return hasNote(village, replicate.ProblemKey) && hasNote(town, replicate.ProblemKey)
		})
		time.Sleep(2 * time.Second) // more tries: still said once
		if n := villageLog.count("parent link problem", "problem=key", town.R.Addr()); n != 1 {
			t.Errorf("village logged the wrong key %d times, want once naming the parent", n)
		}
		if n := townLog.count("cluster key this node does not have", "host=127.0.0.1"); n != 1 {
			t.Errorf("town logged the wrong key %d times, want once naming the host", n)
		}
		if n := townLog.count("No installed keys"); n != 0 {
			t.Errorf("memberlist's own line logged %d times", n)
		}
		// The right key: the problem goes, data flows.
		village.Stop()
		village.keys = [][]byte{testKey}
		village.Write(10)
		village.Start()
		waitCaughtUp(t, town, village, 10*time.Second)
		waitFor(t, 5*time.Second, "the village's note gone", func() bool { return !hasNote(village, replicate.ProblemKey) })
	})

	t.Run("NotEnrolledThenRevoked", func(t *testing.T) {
		town := MustOpenNode(t, appliance.NodeTown, townCode, "")
		townLog := town.logTo()
		town.Start()
		village := MustOpenNode(t, appliance.NodeVillage, villageCode, town.R.Addr())
		villageLog := village.logTo()
		village.Write(10)
		village.Start()
		waitFor(t, 10*time.Second, "unenrolled on both sides", func() bool {
			return peerStatus(village, townCode).Problem == replicate.ProblemUnenrolled && peerStatus(town, villageCode).Problem == replicate.ProblemUnenrolled
		})
		time.Sleep(time.Second)
		if n := townLog.count("link problem", "problem=unenrolled", "code="+villageCode); n != 1 {
			t.Errorf("town said unenrolled %d times, want once naming the village", n)
		}
		if n := villageLog.count("link problem", "problem=unenrolled", "code="+townCode); n != 1 {
			t.Errorf("village said unenrolled %d times, want once naming the town", n)
		}
		town.Enrol(village)
		waitCaughtUp(t, town, village, 10*time.Second)
		waitFor(t, 5*time.Second, "the problem gone on both sides", func() bool {
			return peerStatus(village, townCode).Problem == "" && peerStatus(town, villageCode).Problem == ""
		})
		err := town.Store.Enrol(context.Background(), "u-admin", appliance.Enrolment{Key: village.Store.Feed().String(), Code: villageCode, Role: appliance.NodeVillage, Revoked: true})
		if err != nil {
			t.Fatal(err)
		}
		village.Write(1)
		waitFor(t, 10*time.Second, "revoked on both sides", func() bool {
			return peerStatus(village, townCode).Problem == replicate.ProblemRevoked && peerStatus(town, villageCode).Problem == replicate.ProblemRevoked
		})
		if n := villageLog.count("link problem", "problem=revoked", "code="+townCode); n != 1 {
			t.Errorf("village said revoked %d times, want once", n)
		}
	})

	t.Run("ClockFarOff", func(t *testing.T) {
		town := MustOpenNode(t, appliance.NodeTown, townCode, "")
		townLog := town.logTo()
		town.Start()
		village := MustOpenNodeClock(t, appliance.NodeVillage, villageCode, town.R.Addr(), func() time.Time { return time.Now().Add(-3 * time.Hour) })
		town.Enrol(village)
		village.Start()
		waitFor(t, 10*time.Second, "the clock said on both sides", func() bool {
			a, b := peerStatus(town, villageCode).ClockOffset, peerStatus(village, townCode).ClockOffset
			return a < -2*time.Hour && b > 2*time.Hour
		})
		if n := townLog.count("link problem", "problem=clock", "code="+villageCode); n != 1 {
			t.Errorf("town said the clock %d times, want once", n)
		}
	})
}
