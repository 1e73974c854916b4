package appliance_test

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"gridbox/appliance"
	"gridbox/appliance/fuzzseed"
)

var receiptRE = regexp.MustCompile(`^[0-9ACDEFHJKMNPQRTVWXY]{4}-[0-9ACDEFHJKMNPQRTVWXY]{4}$`)

func TestNewReceiptCode(t *testing.T) {
	t.Run("Deterministic", func(t *testing.T) {
		// 0..7 pick the first alphabet characters; 252..255 are skipped (bias).
		r := bytes.NewReader([]byte{252, 0, 1, 2, 3, 255, 28, 29, 30, 37, 0, 0, 0, 0, 0, 0, 0})
		if got, want := appliance.NewReceiptCode(r), "0123-0129"; got != want {
			t.Fatalf("NewReceiptCode=%q, want %q", got, want)
		}
	})
	t.Run("Random", func(t *testing.T) {
		seen := map[string]bool{}
		chars := map[rune]int{}
		for i := 0; i < 5000; i++ {
			c := appliance.NewReceiptCode(nil)
			if !receiptRE.MatchString(c) {
				t.Fatalf("code %q has the wrong shape", c)
			}
			if seen[c] {
				t.Fatalf("code %q twice in 5000", c)
			}
			seen[c] = true
			for _, r := range strings.ReplaceAll(c, "-", "") {
				chars[r]++
			}
		}
		// 40,000 draws over 28 characters: ~1,430 each; all must show up evenly.
		if len(chars) != 28 {
			t.Fatalf("%d distinct characters, want 28", len(chars))
		}
		for r, n := range chars {
			if n < 1100 || n > 1800 {
				t.Fatalf("character %c drawn %d times of 40000", r, n)
			}
		}
	})
	t.Run("ErrReader", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Fatal("expected a panic on failing randomness")
			}
		}()
		appliance.NewReceiptCode(bytes.NewReader([]byte{1, 2}))
	})
}

func TestNormalizeReceiptCode(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		for _, tc := range []struct{ in, want string }{
			{"K7M4-9QPD", "K7M4-9QPD"},
			{"k7m49qpd", "K7M4-9QPD"},
			{" k7m4 9qpd ", "K7M4-9QPD"},
			{"K-7-M-4-9-Q-P-D", "K7M4-9QPD"},
			{"Ｋ７Ｍ４－９ＱＰＤ", "K7M4-9QPD"},
			{"K7M4—9QPD", "K7M4-9QPD"},
			{"oIlZ-SGBu", "0112-568V"}, // look-alikes read as their stand-ins
			{"0112-568V", "0112-568V"},
		} {
			got, err := appliance.NormalizeReceiptCode(tc.in)
			if err != nil {
				t.Fatalf("NormalizeReceiptCode(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Fatalf("NormalizeReceiptCode(%q)=%q, want %q", tc.in, got, tc.want)
			}
		}
	})
	t.Run("RoundTrip", func(t *testing.T) {
		for i := 0; i < 1000; i++ {
			c := appliance.NewReceiptCode(nil)
			for _, in := range []string{c, strings.ToLower(c), strings.ReplaceAll(c, "-", " ")} {
				if got, err := appliance.NormalizeReceiptCode(in); err != nil || got != c {
					t.Fatalf("NormalizeReceiptCode(%q)=%q, %v; want %q", in, got, err, c)
				}
			}
		}
	})
	for _, tc := range []struct{ name, in, msg string }{
		{"ErrEmpty", " - ", "请输入回执码"},
		{"ErrShort", "K7M4-9QP", "回执码应为8位，现为7位"},
		{"ErrLong", "K7M4-9QPD5", "回执码应为8位，现为9位"},
		{"ErrChar", "K7M4-9QP#", "回执码中有无效字符“#”，只能是数字和字母"},
		{"ErrChinese", "回执K7M4", "回执码中有无效字符“回”，只能是数字和字母"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := appliance.NormalizeReceiptCode(tc.in)
			if got, want := appliance.ErrorField(err), "code"; got != want {
				t.Fatalf("field=%q, want %q (err=%v)", got, want, err)
			}
			if got := appliance.ErrorMessage(err); got != tc.msg {
				t.Fatalf("message=%q, want %q", got, tc.msg)
			}
		})
	}
}

func TestNewPIN(t *testing.T) {
	if got, want := appliance.NewPIN(bytes.NewReader([]byte{250, 0, 19, 255, 9, 123, 0, 0, 0, 0, 0, 0, 0})), "0993"; got != want {
		t.Fatalf("NewPIN=%q, want %q", got, want)
	}
	digits := map[rune]int{}
	for i := 0; i < 2500; i++ {
		p := appliance.NewPIN(nil)
		if len(p) != 4 || strings.Trim(p, "0123456789") != "" {
			t.Fatalf("PIN %q", p)
		}
		for _, r := range p {
			digits[r]++
		}
	}
	for r, n := range digits {
		if n < 800 || n > 1200 {
			t.Fatalf("digit %c drawn %d times of 10000", r, n)
		}
	}
	if len(digits) != 10 {
		t.Fatalf("%d distinct digits", len(digits))
	}
}

// receiptLookalikes are the characters a code never contains, read as the
// one that stands for them.
var receiptLookalikes = map[byte]string{'0': "Oo", '1': "IiLl", '2': "Zz", '5': "Ss", '6': "Gg", '8': "Bb", 'V': "Uu"}

// FuzzNormalizeReceiptCode: a code as typed is refused on field code or
// read as one code in the shape NewReceiptCode writes; any spelling of that
// code (case, full-width, dashes and spaces, look-alikes) reads the same.
func FuzzNormalizeReceiptCode(f *testing.F) {
	for name, s := range map[string]string{
		"printed": "K7M4-9QPD", "lowercase": "k7m49qpd", "spaced": " k7m4 9qpd ", "dashes": "K-7-M-4-9-Q-P-D",
		"fullwidth": "Ｋ７Ｍ４－９ＱＰＤ", "em-dash": "K7M4—9QPD", "en-dash": "K7M4–9QPD", "underscore": "K7M4_9QPD",
		"lookalikes": "oIlZ-SGBu", "fullwidth-o": "ｏｏｏｏ-ｏｏｏｏ", "dotless-i": "ıııı-ıııı", "long-s": "ſſſſ-ſſſſ",
		"short": "K7M4-9QP", "long": "K7M4-9QPD5", "hash": "K7M4-9QP#", "chinese": "回执K7M4", "empty": "", "only-dash": " - ",
		"invalid-utf8": "\xff\xff", "kelvin-sign": "\u212a7M4-9QPD", "nbsp": "K7M4\u00a09QPD",
	} {
		fuzzseed.Add(f, name, s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := appliance.NormalizeReceiptCode(s)
		if err != nil {
			if appliance.ErrorField(err) != "code" || appliance.ErrorCode(err) != appliance.EINVALID {
				t.Fatalf("NormalizeReceiptCode(%q): %v on field %q", s, err, appliance.ErrorField(err))
			}
			return
		}
		if !receiptRE.MatchString(c) {
			t.Fatalf("NormalizeReceiptCode(%q)=%q", s, c)
		}
		spellings := []string{c, strings.ToLower(c), widen(c), strings.ReplaceAll(c, "-", ""), strings.Join(strings.SplitAfter(c, ""), " ")}
		for i := 0; i < len(c); i++ {
			for _, r := range receiptLookalikes[c[i]] {
				spellings = append(spellings, c[:i]+string(r)+c[i+1:])
			}
		}
		for _, in := range spellings {
			if again, err := appliance.NormalizeReceiptCode(in); err != nil || again != c {
				t.Fatalf("%q reads as %q, but its spelling %q as %q, %v", s, c, in, again, err)
			}
		}
	})
}

// FuzzNewReceiptCode: whatever the randomness, a new code and PIN have the
// shape their readers take, and read back as themselves.
func FuzzNewReceiptCode(f *testing.F) {
	fuzzseed.Add(f, "zeros", []byte{0})
	fuzzseed.Add(f, "biased-bytes", []byte{252, 253, 254, 255, 251, 27, 250, 9})
	fuzzseed.Add(f, "counting", []byte("0123456789abcdefghijklmnopqrstuvwxyz"))
	f.Fuzz(func(t *testing.T, random []byte) {
		if !slices.ContainsFunc(random, func(b byte) bool { return b < 250 }) {
			return // never gives an unbiased byte: NewReceiptCode would wait forever
		}
		code := appliance.NewReceiptCode(&cycle{b: random})
		if got, err := appliance.NormalizeReceiptCode(code); err != nil || got != code || !receiptRE.MatchString(code) {
			t.Fatalf("NewReceiptCode=%q reads as %q, %v", code, got, err)
		}
		pin := appliance.NewPIN(&cycle{b: random})
		if got, err := appliance.NormalizePIN(pin); err != nil || got != pin {
			t.Fatalf("NewPIN=%q reads as %q, %v", pin, got, err)
		}
	})
}

// cycle reads b over and over.
type cycle struct {
	b []byte
	i int
}

func (c *cycle) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.b[c.i%len(c.b)]
		c.i++
	}
	return len(p), nil
}

func TestNormalizePIN(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"0993", "0993"}, {" 0993 ", "0993"}, {"09 93", "0993"}, {"０９９３", "0993"}, {"09\u300093", "0993"},
	} {
		if got, err := appliance.NormalizePIN(tc.in); err != nil || got != tc.want {
			t.Fatalf("NormalizePIN(%q)=%q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "099", "09934", "09a3", "1２", "一二三四", "\xff123"} {
		if _, err := appliance.NormalizePIN(in); appliance.ErrorField(err) != "pin" {
			t.Fatalf("NormalizePIN(%q): %v, want an error on field pin", in, err)
		}
	}
}

// FuzzNormalizePIN: a PIN as typed is refused on field pin or read as 4
// ASCII digits, the digits typed in the order typed, however spelled.
func FuzzNormalizePIN(f *testing.F) {
	for name, s := range map[string]string{
		"plain": "0993", "spaced": " 09 93 ", "fullwidth": "０９９３", "mixed-4-bytes": "1２", "short": "099",
		"long": "09934", "letter": "09a3", "chinese": "一二三四", "invalid-utf8": "\xff123", "empty": "",
	} {
		fuzzseed.Add(f, name, s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pin, err := appliance.NormalizePIN(s)
		digits := strings.Map(func(r rune) rune {
			switch {
			case r >= '0' && r <= '9':
				return r
			case r >= '０' && r <= '９':
				return r - '０' + '0'
			case unicode.IsSpace(r):
				return -1
			}
			return 'x'
		}, s)
		if ok := len(digits) == 4 && strings.Trim(digits, "0123456789") == ""; ok != (err == nil) {
			t.Fatalf("NormalizePIN(%q)=%q, %v", s, pin, err)
		}
		if err != nil {
			if appliance.ErrorField(err) != "pin" {
				t.Fatalf("NormalizePIN(%q): %v on field %q", s, err, appliance.ErrorField(err))
			}
			return
		}
		if pin != digits {
			t.Fatalf("NormalizePIN(%q)=%q, want %q", s, pin, digits)
		}
	})
}
