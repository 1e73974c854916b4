package replicate_test

import (
	"testing"
	"time"
)

// TestUnaskedProof: a town and a village prove their keys to each other
// unasked (each signs the other's nonce from its metadata), so a new link
// needs no challenge; a proof signed for another address, or the same
// proof again, is refused.
func TestUnaskedProof(t *testing.T) {
	town, village := syncedPair(t, 10)
	if n, m := town.R.Challenges(), village.R.Challenges(); n != 0 || m != 0 {
		t.Fatalf("challenges sent: town %d, village %d; want none", n, m)
	}
	before := village.R.Rejected()["unknown_peer"]
	// As if replayed by a node that took over the town's name elsewhere.
	if err := town.R.SendRaw(village.R.Name(), town.R.UnaskedProof(village.R.Name(), "127.0.0.1:1")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the proof for another address refused", func() bool { return village.R.Rejected()["unknown_peer"] > before })
	// The genuine proof, replayed (as by a node that took over the town's
	// name and address while it is down), is taken once only.
	before = village.R.Rejected()["unknown_peer"]
	if err := town.R.SendRaw(village.R.Name(), town.R.UnaskedProof(village.R.Name(), town.R.Addr())); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the replayed proof refused", func() bool { return village.R.Rejected()["unknown_peer"] > before })
	// The link is as it was.
	village.Write(5)
	waitCaughtUp(t, town, village, 5*time.Second)
}

// TestSendsBounded: a peer is served at most two sends of a kind at a time,
// whatever it asks for; the rest are refused as overload.
func TestSendsBounded(t *testing.T) {
	town, village := syncedPair(t, 5)
	release := make(chan struct{})
	before := town.R.Rejected()["overload"]
	if got := town.R.HoldSends(village.R.Name(), 5, release); got != 2 {
		t.Fatalf("%d sends started, want 2", got)
	}
	if got := town.R.Rejected()["overload"] - before; got != 3 {
		t.Fatalf("%d refused as overload, want 3", got)
	}
	close(release)
	// Once they have ended, the peer is served again.
	waitFor(t, 5*time.Second, "the held sends ended", func() bool {
		r := make(chan struct{})
		close(r)
		return town.R.HoldSends(village.R.Name(), 1, r) == 1
	})
}
