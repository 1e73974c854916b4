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
