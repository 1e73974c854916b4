package appliance

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"math/big"
)

// A village box is often not reachable from outside; its town node may be.
// The QR codes the village prints for phones then point at the town, which
// must check them: QRSecret gives both nodes the same token secret without
// sending anything, by Diffie-Hellman (X25519) between their node keys
// (ed25519 keys taken over to Curve25519, as age and libsodium do). The
// town knows its villages' keys from enrolment, the village its parent's.

// QRSecret is the token secret this node shares with the node peer.
func (s *Signer) QRSecret(peer FeedID) ([]byte, error) {
	h := sha512.Sum512(s.key.Seed())
	scalar := h[:32] // the ed25519 secret scalar, clamped by ECDH
	u, err := montgomeryU(peer[:])
	if err != nil {
		return nil, err
	}
	x := ecdh.X25519()
	priv, err := x.NewPrivateKey(scalar)
	if err != nil {
		return nil, err
	}
	pub, err := x.NewPublicKey(u)
	if err != nil {
		return nil, err
	}
	shared, err := priv.ECDH(pub)
	if err != nil {
		return nil, err
	}
	// Both sides name the two keys in the same order.
	a, b := s.Feed[:], peer[:]
	if bytes.Compare(a, b) > 0 {
		a, b = b, a
	}
	info := "gridbox qr token v1\x00" + string(a) + string(b)
	return hkdf.Key(sha256.New, shared, nil, info, 32)
}

// p25519 is 2^255 - 19.
var p25519 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))

// montgomeryU maps an ed25519 public key (Edwards y, little-endian, sign
// bit on top) to its Curve25519 u = (1 + y) / (1 - y).
func montgomeryU(pub []byte) ([]byte, error) {
	if len(pub) != 32 {
		return nil, errors.New("qr secret: bad public key")
	}
	le := append([]byte(nil), pub...)
	le[31] &= 0x7F
	for i, j := 0, 31; i < j; i, j = i+1, j-1 {
		le[i], le[j] = le[j], le[i]
	}
	y := new(big.Int).SetBytes(le)
	den := new(big.Int).Sub(big.NewInt(1), y)
	den.Mod(den, p25519)
	if den.Sign() == 0 {
		return nil, errors.New("qr secret: bad public key")
	}
	u := new(big.Int).Add(big.NewInt(1), y)
	u.Mul(u, den.ModInverse(den, p25519))
	u.Mod(u, p25519)
	out := make([]byte, 32)
	u.FillBytes(out)
	for i, j := 0, 31; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}
