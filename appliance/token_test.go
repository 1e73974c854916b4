package appliance_test

import (
	"regexp"
	"strings"
	"testing"

	"gridbox/appliance"
)

func mustTokenSigner(tb testing.TB, secret string) *appliance.TokenSigner {
	tb.Helper()
	s, err := appliance.NewTokenSigner([]byte(secret))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

var tokenRE = regexp.MustCompile(`^[A-Z2-7]+$`)

func TestTokenSigner(t *testing.T) {
	s := mustTokenSigner(t, "0123456789abcdef0123456789abcdef")

	t.Run("RoundTrip", func(t *testing.T) {
		for _, tc := range []struct {
			kind byte
			id   string
		}{
			{'C', "h7f3k2m9q4x1"},
			{'R', "K7M4-9QPD"},
			{0, ""},
			{255, "张三"}, // opaque bytes survive, though callers should not do this
		} {
			tok := s.Sign(tc.kind, tc.id)
			if !tokenRE.MatchString(tok) {
				t.Fatalf("token %q is not uppercase base32", tok)
			}
			kind, id, err := s.Verify(tok)
			if err != nil {
				t.Fatalf("Verify(%q): %v", tok, err)
			}
			if kind != tc.kind || id != tc.id {
				t.Fatalf("Verify=%d %q, want %d %q", kind, id, tc.kind, tc.id)
			}
		}
	})

	t.Run("Length", func(t *testing.T) {
		if got, want := len(s.Sign('C', "h7f3k2m9q4x1")), 34; got != want {
			t.Fatalf("token length %d for a 12-byte id, want %d", got, want)
		}
	})

	t.Run("CaseAndSpaces", func(t *testing.T) {
		tok := s.Sign('C', "h7f3k2m9q4x1")
		for _, in := range []string{strings.ToLower(tok), " " + tok[:10] + " " + tok[10:] + "\r\n"} {
			if kind, id, err := s.Verify(in); err != nil || kind != 'C' || id != "h7f3k2m9q4x1" {
				t.Fatalf("Verify(%q)=%c %q %v", in, kind, id, err)
			}
		}
	})

	t.Run("ErrTampered", func(t *testing.T) {
		tok := s.Sign('C', "h7f3k2m9q4x1")
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
		for i := range tok {
			for _, c := range alphabet {
				if byte(c) == tok[i] {
					continue
				}
				bad := tok[:i] + string(c) + tok[i+1:]
				if _, _, err := s.Verify(bad); err == nil {
					t.Fatalf("tampered token %q (position %d) accepted", bad, i)
				}
			}
		}
		// Another kind or id with the old MAC.
		other := s.Sign('R', "h7f3k2m9q4x1")
		if _, _, err := s.Verify(other[:len(other)-13] + tok[len(tok)-13:]); err == nil {
			t.Fatal("spliced token accepted")
		}
	})

	t.Run("ErrWrongSecret", func(t *testing.T) {
		other := mustTokenSigner(t, "0123456789abcdef0123456789abcdeF")
		_, _, err := other.Verify(s.Sign('C', "h7f3k2m9q4x1"))
		if got, want := appliance.ErrorCode(err), appliance.EINVALID; got != want {
			t.Fatalf("code=%q, want %q", got, want)
		}
		if got, want := appliance.ErrorField(err), "token"; got != want {
			t.Fatalf("field=%q, want %q", got, want)
		}
	})

	t.Run("ErrGarbage", func(t *testing.T) {
		tok := s.Sign('C', "x")
		for _, in := range []string{"", "A", "AAAAAAAAAAAAAAAA", "not a token!", "1234", tok[:len(tok)-1], tok + "A", tok + "=", strings.Repeat("A", 1000)} {
			if _, _, err := s.Verify(in); appliance.ErrorCode(err) != appliance.EINVALID {
				t.Fatalf("Verify(%q) err=%v, want EINVALID", in, err)
			}
		}
	})

	t.Run("ErrShortSecret", func(t *testing.T) {
		if _, err := appliance.NewTokenSigner([]byte("short")); err == nil {
			t.Fatal("expected error")
		}
	})

	t.Run("SecretCopied", func(t *testing.T) {
		secret := []byte("0123456789abcdef0123456789abcdef")
		s1, err := appliance.NewTokenSigner(secret)
		if err != nil {
			t.Fatal(err)
		}
		tok := s1.Sign('C', "a")
		secret[0] = 'X'
		if _, _, err := s1.Verify(tok); err != nil {
			t.Fatal("signer changed with the caller's slice")
		}
	})
}

func FuzzTokenVerify(f *testing.F) {
	s := mustTokenSigner(f, "0123456789abcdef0123456789abcdef")
	f.Add(s.Sign('C', "h7f3k2m9q4x1"))
	f.Add("")
	f.Add("====")
	f.Fuzz(func(t *testing.T, in string) {
		kind, id, err := s.Verify(in)
		if err == nil && s.Sign(kind, id) != strings.ToUpper(strings.Join(strings.Fields(in), "")) {
			t.Fatalf("Verify(%q) accepted a token Sign does not make", in)
		}
	})
}
