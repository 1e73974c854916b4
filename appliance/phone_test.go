package appliance_test

import (
	"regexp"
	"strings"
	"testing"

	"gridbox/appliance"
	"gridbox/appliance/fuzzseed"
)

// Phones as people write them: what NormalizePhone makes of them and
// whether ValidatePhone then takes them ("" when it does).
var phoneShapes = []struct {
	name, in, norm, msg string
}{
	{"mobile", "13800138000", "13800138000", ""},
	{"mobile-spaced", "138 0013 8000", "13800138000", ""},
	{"mobile-plus86", "+86 138 0013 8000", "13800138000", ""},
	{"mobile-0086", "008613800138000", "13800138000", ""},
	{"mobile-fullwidth", "１３８００１３８０００", "13800138000", ""},
	{"mobile-fullwidth-plus", "＋８６　１３８００１３８０００", "13800138000", ""},
	{"mobile-nbsp", "138\u00a00013\u00a08000", "13800138000", ""},
	{"mobile-tab", "\t13800138000\n", "13800138000", ""},
	{"mobile-199", "19912345678", "19912345678", ""},
	{"landline", "0371-62581234", "0371-62581234", ""},
	{"landline-nodash", "037162581234", "037162581234", ""},
	{"landline-beijing", "010-82345678", "010-82345678", ""},
	{"landline-7digits", "0391-2345678", "0391-2345678", ""},
	{"landline-brackets", "(0371)62581234", "0371-62581234", ""},
	{"landline-fullwidth-brackets", "（0371）62581234", "0371-62581234", ""},
	{"landline-fullwidth-dash", "０３７１－６２５８１２３４", "0371-62581234", ""},
	{"landline-spaced", "0371 6258 1234", "037162581234", ""},
	{"landline-plus86", "+86 371 62581234", "37162581234", "电话号码格式错误：手机为11位数字，座机为区号加号码，如 0371-12345678"},
	{"mobile-12-second-digit", "12800138000", "12800138000", "手机号码第二位应为3到9"},
	{"mobile-dashed", "138-0013-8000", "138-0013-8000", "电话号码格式错误：手机为11位数字，座机为区号加号码，如 0371-12345678"},
	{"mobile-short", "1380013800", "1380013800", "电话号码格式错误：手机为11位数字，座机为区号加号码，如 0371-12345678"},
	{"landline-extension", "0371-62581234-801", "0371-62581234-801", "电话号码格式错误：手机为11位数字，座机为区号加号码，如 0371-12345678"},
	{"landline-extension-zhuan", "0371-62581234转801", "0371-62581234转801", "电话号码格式错误：手机为11位数字，座机为区号加号码，如 0371-12345678"},
	{"landline-no-area-code", "62581234", "62581234", "电话号码格式错误：手机为11位数字，座机为区号加号码，如 0371-12345678"},
	{"hotline-12345", "12345", "12345", "电话号码格式错误：手机为11位数字，座机为区号加号码，如 0371-12345678"},
	{"chinese-digits", "一三八〇〇一三八〇〇〇", "一三八〇〇一三八〇〇〇", "电话号码格式错误：手机为11位数字，座机为区号加号码，如 0371-12345678"},
	{"empty", "  ", "", ""},
}

func TestNormalizePhone(t *testing.T) {
	for _, tc := range phoneShapes {
		t.Run(tc.name, func(t *testing.T) {
			got := appliance.NormalizePhone(tc.in)
			if got != tc.norm {
				t.Fatalf("NormalizePhone(%q)=%q, want %q", tc.in, got, tc.norm)
			}
			err := appliance.ValidatePhone("phone", got, false)
			if msg := appliance.ErrorMessage(err); err != nil && msg != tc.msg || err == nil && tc.msg != "" {
				t.Fatalf("ValidatePhone(%q)=%v, want %q", got, err, tc.msg)
			}
		})
	}
	t.Run("ErrRequired", func(t *testing.T) {
		err := appliance.ValidatePhone("duty_phone", "", true)
		if got, want := appliance.ErrorField(err), "duty_phone"; got != want {
			t.Fatalf("field=%q, want %q (err=%v)", got, want, err)
		}
	})
}

// validPhoneRE is what a stored phone looks like: a mobile or a landline
// with its area code, ASCII digits and at most one dash.
var validPhoneRE = regexp.MustCompile(`^(1[3-9][0-9]{9}|0[1-9][0-9]{1,2}-?[2-9][0-9]{6,7})$`)

// FuzzPhone: a phone as typed is normalised, then taken only in a stored
// shape (field named in the error otherwise); normalising it again changes
// nothing, and how it was spelled (full-width, spaces of any kind) does not
// matter; masking hides all but the first 3 and last 4 digits.
func FuzzPhone(f *testing.F) {
	for _, tc := range phoneShapes {
		fuzzseed.Add(f, tc.name, tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := appliance.NormalizePhone(s)
		if got := appliance.NormalizePhone(widen(s)); got != n {
			t.Fatalf("NormalizePhone(%q)=%q but of its full-width spelling %q", s, n, got)
		}
		spaced := strings.Join(strings.SplitAfter(s, ""), " \u00a0\u3000\t")
		if got := appliance.NormalizePhone(spaced); got != n {
			t.Fatalf("NormalizePhone(%q)=%q but with spaces between %q", s, n, got)
		}
		_ = appliance.MaskPhone(s)
		if err := appliance.ValidatePhone("phone", n, true); err != nil {
			if appliance.ErrorField(err) != "phone" || appliance.ErrorCode(err) != appliance.EINVALID {
				t.Fatalf("ValidatePhone(%q): %v, field %q", n, err, appliance.ErrorField(err))
			}
			if err := appliance.ValidatePhone("phone", n, false); (err == nil) != (n == "") {
				t.Fatalf("ValidatePhone(%q, not required)=%v", n, err)
			}
			return
		}
		if !validPhoneRE.MatchString(n) {
			t.Fatalf("ValidatePhone took %q (from %q)", n, s)
		}
		if again := appliance.NormalizePhone(n); again != n {
			t.Fatalf("NormalizePhone(%q)=%q: a stored phone changes when saved again", n, again)
		}
		m := appliance.MaskPhone(n)
		if len(m) != len(n) || m[:3] != n[:3] || m[len(m)-4:] != n[len(n)-4:] || strings.Trim(m[3:len(m)-4], "*") != "" {
			t.Fatalf("MaskPhone(%q)=%q", n, m)
		}
	})
}
