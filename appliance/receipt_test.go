package appliance_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"gridbox/appliance"
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

func FuzzNormalizeReceiptCode(f *testing.F) {
	for _, s := range []string{"K7M4-9QPD", "", "ｏｏｏｏ-ｏｏｏｏ", "\xff\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := appliance.NormalizeReceiptCode(s)
		if err != nil {
			return
		}
		if !receiptRE.MatchString(c) {
			t.Fatalf("NormalizeReceiptCode(%q)=%q", s, c)
		}
		if again, err := appliance.NormalizeReceiptCode(c); err != nil || again != c {
			t.Fatalf("not idempotent: %q → %q, %v", c, again, err)
		}
	})
}
