package appliance

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"strings"
	"unicode"
)

// tokenMACSize is the truncated HMAC length: 64 bits cannot be guessed
// online, and every byte more lengthens the QR code.
const tokenMACSize = 8

// maxTokenLen bounds the input Verify looks at.
const maxTokenLen = 256

// tokenEncoding is uppercase base32 without padding: only A–Z and 2–7, so a
// USB scanner typing it as keystrokes cannot hit a shortcut key, it is safe
// in a URL, and a QR code can hold it in the compact alphanumeric mode.
var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// tokenDomain separates these MACs from any other use of the same secret.
const tokenDomain = "gridbox token v1\x00"

// TokenSigner makes and checks the opaque tokens in QR codes on service
// cards and receipts. A token is kind, id and a truncated HMAC-SHA256; it
// carries nothing but what callers pass, so pass opaque ids, never names or
// ID numbers. Ids are readable by anyone who decodes the base32.
type TokenSigner struct {
	secret []byte
	// also, when set, gives more secrets whose tokens Verify accepts: a
	// town's villages', or a village's own printed for its town (qrkey.go).
	also func() [][]byte
}

// AcceptAlso makes Verify accept tokens made with any of the secrets that
// also returns (asked at each Verify, so it may follow enrolments); Sign
// still signs with s's own.
func (s *TokenSigner) AcceptAlso(also func() [][]byte) { s.also = also }

// NewTokenSigner returns a signer with a copy of secret (at least 16 bytes,
// e.g. derived from the node key; keep it stable, or printed codes stop working).
func NewTokenSigner(secret []byte) (*TokenSigner, error) {
	if len(secret) < 16 {
		return nil, errors.New("token secret must be at least 16 bytes")
	}
	return &TokenSigner{secret: append([]byte(nil), secret...)}, nil
}

func (s *TokenSigner) mac(payload []byte) []byte { return tokenMAC(s.secret, payload) }

func tokenMAC(secret, payload []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(tokenDomain))
	h.Write(payload)
	return h.Sum(nil)[:tokenMACSize]
}

// Sign returns the token for kind (what the id names, e.g. 'C' card, 'R'
// receipt) and id. A 12-byte id gives a 34-character token.
func (s *TokenSigner) Sign(kind byte, id string) string {
	payload := make([]byte, 0, 1+len(id)+tokenMACSize)
	payload = append(payload, kind)
	payload = append(payload, id...)
	return tokenEncoding.EncodeToString(append(payload, s.mac(payload)...))
}

// Verify checks a token as scanned or typed (any case, spaces ignored) and
// returns its kind and id. Every failure is the same EINVALID error on field
// "token": a forger learns nothing from the message.
func (s *TokenSigner) Verify(token string) (kind byte, id string, err error) {
	bad := FieldError("token", "二维码无效，不是本系统生成的或已损坏")
	if len(token) > maxTokenLen {
		return 0, "", bad
	}
	t := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToUpper(r)
	}, token)
	raw, err := tokenEncoding.DecodeString(t)
	// Re-encoding rejects non-canonical spellings of the same bytes (spare
	// bits in the last character), so one token has exactly one form.
	if err != nil || len(raw) < 1+tokenMACSize || tokenEncoding.EncodeToString(raw) != t {
		return 0, "", bad
	}
	payload, sum := raw[:len(raw)-tokenMACSize], raw[len(raw)-tokenMACSize:]
	if hmac.Equal(sum, s.mac(payload)) {
		return payload[0], string(payload[1:]), nil
	}
	if s.also != nil {
		for _, secret := range s.also() {
			if hmac.Equal(sum, tokenMAC(secret, payload)) {
				return payload[0], string(payload[1:]), nil
			}
		}
	}
	return 0, "", bad
}
