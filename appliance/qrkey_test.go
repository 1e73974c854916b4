package appliance_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"

	"gridbox/appliance"
)

// A village and its town derive the same QR token secret from their node
// keys, each knowing only the other's public key; a third node does not.
func TestQRSecret(t *testing.T) {
	signer := func() *appliance.Signer {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return appliance.NewSigner(k)
	}
	for i := 0; i < 20; i++ {
		village, town, other := signer(), signer(), signer()
		a, err := village.QRSecret(town.Feed)
		if err != nil {
			t.Fatal(err)
		}
		b, err := town.QRSecret(village.Feed)
		if err != nil {
			t.Fatal(err)
		}
		c, err := other.QRSecret(village.Feed)
		if err != nil {
			t.Fatal(err)
		}
		if string(a) != string(b) || len(a) != 32 || string(a) == string(c) {
			t.Fatalf("secrets: village %x, town %x, other %x", a, b, c)
		}
		// A token the village signs for the town is accepted by a town
		// signer that accepts its villages' secrets, and by no one else.
		vs, _ := appliance.NewTokenSigner(a)
		token := vs.Sign('H', "hh-0001")
		townSigner, _ := appliance.NewTokenSigner([]byte("the town's own secret, 32 bytes."))
		if _, _, err := townSigner.Verify(token); err == nil {
			t.Fatal("the town's own secret accepts a village's token")
		}
		townSigner.AcceptAlso(func() [][]byte { return [][]byte{c, b} })
		if k, id, err := townSigner.Verify(token); err != nil || k != 'H' || id != "hh-0001" {
			t.Fatalf("town verify = %c %q %v", k, id, err)
		}
	}
}
