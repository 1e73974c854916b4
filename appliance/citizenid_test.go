package appliance_test

import (
	"fmt"
	"math/rand"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"gridbox/appliance"
	"gridbox/appliance/fuzzseed"
)

var testNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func TestParseCitizenID(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		for _, tc := range []struct {
			in, number, division, birth string
			male                        bool
		}{
			{"11010519491231002X", "11010519491231002X", "110105", "1949-12-31", false}, // GB 11643 example
			{"11010519491231002x", "11010519491231002X", "110105", "1949-12-31", false},
			{" 410184 19900307 1235 ", "410184199003071235", "410184", "1990-03-07", true},
			{"４１０１８４１９９００３０７１２３５", "410184199003071235", "410184", "1990-03-07", true},
			{"11010519491231002ｘ", "11010519491231002X", "110105", "1949-12-31", false},
		} {
			c, err := appliance.ParseCitizenIDAt(tc.in, testNow)
			if err != nil {
				t.Fatalf("%q: %v", tc.in, err)
			}
			if got, want := c.Number, tc.number; got != want {
				t.Fatalf("Number=%q, want %q", got, want)
			}
			if got, want := c.Division, tc.division; got != want {
				t.Fatalf("Division=%q, want %q", got, want)
			}
			if got, want := c.Birth.Format("2006-01-02"), tc.birth; got != want {
				t.Fatalf("Birth=%s, want %s", got, want)
			}
			if got, want := c.Male, tc.male; got != want {
				t.Fatalf("%q: Male=%v, want %v", tc.in, got, want)
			}
		}
	})

	for _, tc := range []struct {
		name, in, msg string
	}{
		{"ErrEmpty", "  ", "请填写身份证号"},
		{"ErrShort", "41018419900307123", "身份证号应为18位，现为17位"},
		{"ErrLong", "4101841990030712355", "身份证号应为18位，现为19位"},
		{"ErrLetterInside", "41018419900307A235", "身份证号前17位应全为数字"},
		{"ErrBadLast", "41018419900307123Y", "身份证号最后一位应为数字或X"},
		{"ErrChineseChars", "4101841990030712３五", "身份证号最后一位应为数字或X"},
		{"ErrProvince", "990184199003071238", "身份证号前两位不是有效的省级行政区划代码"},
		{"ErrProvince00", "000000199003071234", "身份证号前两位不是有效的省级行政区划代码"},
		{"ErrDate", "410184202602301236", "身份证号中的出生日期无效"},
		{"ErrFuture", "410184202612311235", "身份证号中的出生日期无效（晚于今天）"},
		{"ErrBefore1890", "440524188001010014", "身份证号中的出生日期无效（早于1890年）"},
		// The expected digit is not shown: it would invite a made-up number.
		{"ErrBadChecksum", "410184199003071234", "身份证号校验位不符，有数字录错"},
		{"ErrBadChecksumX", "110105194912310021", "身份证号校验位不符，有数字录错"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := appliance.ParseCitizenIDAt(tc.in, testNow)
			if got, want := appliance.ErrorCode(err), appliance.EINVALID; got != want {
				t.Fatalf("code=%q, want %q (err=%v)", got, want, err)
			}
			if got, want := appliance.ErrorField(err), "id_number"; got != want {
				t.Fatalf("field=%q, want %q", got, want)
			}
			if got, want := appliance.ErrorMessage(err), tc.msg; !strings.HasPrefix(got, want) {
				t.Fatalf("message=%q, want %q", got, want)
			}
		})
	}

	t.Run("ClockIn1970", func(t *testing.T) {
		// A box without a real-time clock must still accept recent births.
		id := appliance.MakeCitizenID("410184", time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), 12, true)
		if _, err := appliance.ParseCitizenIDAt(id, time.Unix(0, 0)); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("TodayInChina", func(t *testing.T) {
		// 2026-11-28 20:00 UTC is already 11-29 in China: born that day is fine.
		id := appliance.MakeCitizenID("410184", time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC), 12, true)
		if _, err := appliance.ParseCitizenIDAt(id, time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
		if _, err := appliance.ParseCitizenIDAt(id, time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)); err == nil {
			t.Fatal("expected error: born tomorrow")
		}
	})

	t.Run("ParseCitizenIDUsesClock", func(t *testing.T) {
		if _, err := appliance.ParseCitizenID("11010519491231002X"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestCheckCitizenID(t *testing.T) {
	const id = "410184199003071235" // male, 1990-03-07
	birth := time.Date(1990, 3, 7, 0, 0, 0, 0, time.UTC)
	t.Run("OK", func(t *testing.T) {
		if err := appliance.CheckCitizenID(id, "男", birth); err != nil {
			t.Fatal(err)
		}
		if err := appliance.CheckCitizenID(id, "", time.Time{}); err != nil {
			t.Fatal(err)
		}
		// The calendar date counts, in the value's own location.
		sh := time.FixedZone("CST", 8*3600)
		if err := appliance.CheckCitizenID(id, " 男 ", time.Date(1990, 3, 7, 0, 0, 0, 0, sh)); err != nil {
			t.Fatal(err)
		}
	})
	for _, tc := range []struct {
		name, gender string
		birth        time.Time
		field, msg   string
	}{
		{"ErrGender", "女", birth, "gender", "性别与身份证号不符：身份证号显示为男"},
		{"ErrGenderValue", "M", birth, "gender", "性别应为“男”或“女”"},
		{"ErrBirth", "男", birth.AddDate(0, 0, 1), "birth_date", "出生日期与身份证号不符：身份证号中为1990年3月7日"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := appliance.CheckCitizenID(id, tc.gender, tc.birth)
			if got, want := appliance.ErrorField(err), tc.field; got != want {
				t.Fatalf("field=%q, want %q (err=%v)", got, want, err)
			}
			if got, want := appliance.ErrorMessage(err), tc.msg; got != want {
				t.Fatalf("message=%q, want %q", got, want)
			}
		})
	}
	t.Run("ErrNumber", func(t *testing.T) {
		err := appliance.CheckCitizenID("410184199003071234", "男", birth)
		if got, want := appliance.ErrorField(err), "id_number"; got != want {
			t.Fatalf("field=%q, want %q", got, want)
		}
	})
}

func TestMaskCitizenID(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"410184199003071234", "410184********1234"},
		{"11010519491231002x", "110105********002X"},
		{"", ""},
		{"12345", "*****"},
	} {
		if got := appliance.MaskCitizenID(tc.in); got != tc.want {
			t.Fatalf("MaskCitizenID(%q)=%q, want %q", tc.in, got, tc.want)
		}
	}
	c, err := appliance.ParseCitizenIDAt("410184199003071235", testNow)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Masked(), "410184********1235"; got != want {
		t.Fatalf("Masked()=%q, want %q", got, want)
	}
	if got, want := c.Gender(), "男"; got != want {
		t.Fatalf("Gender()=%q, want %q", got, want)
	}
}

// Every generated number parses back to what it was made from, and changing
// any one digit is caught.
func TestMakeCitizenID_Property(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	prefixes := []string{"410184", "110105", "500101", "650102", "810000", "830000"}
	start := time.Date(1890, 1, 1, 0, 0, 0, 0, time.UTC)
	days := int(testNow.Sub(start).Hours() / 24)
	for i := 0; i < 2000; i++ {
		prefix := prefixes[rng.Intn(len(prefixes))]
		birth := start.AddDate(0, 0, rng.Intn(days))
		seq, male := rng.Intn(1000), rng.Intn(2) == 1
		id := appliance.MakeCitizenID(prefix, birth, seq, male)
		c, err := appliance.ParseCitizenIDAt(id, testNow)
		if err != nil {
			t.Fatalf("MakeCitizenID(%s, %s, %d, %v)=%s: %v", prefix, birth.Format("2006-01-02"), seq, male, id, err)
		}
		if c.Number != id || c.Division != prefix || !c.Birth.Equal(birth) || c.Male != male {
			t.Fatalf("%s parsed to %+v", id, c)
		}
		for pos := 0; pos < 18; pos++ {
			b := []byte(id)
			old := b[pos]
			for _, d := range []byte("0123456789X") {
				if d == old || d == 'X' && pos != 17 {
					continue
				}
				b[pos] = d
				if _, err := appliance.ParseCitizenIDAt(string(b), testNow); err == nil {
					t.Fatalf("%s with position %d changed to %c: no error", id, pos, d)
				}
			}
		}
	}
}

func TestMakeCitizenID_Gender(t *testing.T) {
	b := time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, seq := range []int{0, 1, 998, 999, 1234, -3} {
		for _, male := range []bool{true, false} {
			c, err := appliance.ParseCitizenIDAt(appliance.MakeCitizenID("410184", b, seq, male), testNow)
			if err != nil {
				t.Fatal(err)
			}
			if c.Male != male {
				t.Fatalf("seq %d male %v: got male %v", seq, male, c.Male)
			}
		}
	}
}

// FuzzParseCitizenID: whatever is typed, a number is either refused with a
// message on field id_number or accepted as 18 characters whose check
// digit, division, birth date and gender agree with what it says; spelling
// it another way (spaces, full-width, lowercase x) gives the same number,
// and any one wrong digit or two swapped ones are caught.
func FuzzParseCitizenID(f *testing.F) {
	for name, s := range map[string]string{
		"gb11643-example-x":      "11010519491231002X",
		"lowercase-x":            "11010519491231002x",
		"fullwidth-x":            "11010519491231002ｘ",
		"male":                   "410184199003071235",
		"spaced":                 " 410184 19900307 1235 ",
		"fullwidth-digits":       "４１０１８４１９９００３０７１２３５",
		"ideographic-spaces":     "410184\u300019900307\u30001235",
		"nbsp-tab":               "410184\u00a019900307\t1235",
		"old-15-digit":           "410184900307123",
		"old-15-digit-spaced":    "410184 900307 123",
		"excel-apostrophe":       "'410184199003071235",
		"libreoffice-scientific": "4.10184199003071E+17",
		"excel-trailing-dot0":    "410184199003071235.0",
		"dashed":                 "410184-19900307-1235",
		"hong-kong":              seedID("810000", 1985, 7, 1, true),
		"taiwan-residence":       seedID("830000", 1990, 2, 28, false),
		"born-1890":              seedID("110105", 1890, 1, 1, true),
		"born-1889":              "110105188912310017",
		"feb-30":                 "41018419900230123X",
		"future":                 "410184202612311235",
		"bad-check-digit":        "410184199003071234",
		"province-99":            "990184199003071238",
		"empty":                  "",
		"x-only":                 "x",
		"rare-chars":             "𠇔𠇔𠇔𠇔𠇔𠇔𠇔𠇔𠇔𠇔𠇔𠇔𠇔𠇔𠇔𠇔𠇔𠇔",
		"invalid-utf8":           "\xff\xfe410184199003071235",
		"chinese-digits":         "四一〇一八四一九九〇〇三〇七一二三五",
	} {
		fuzzseed.Add(f, name, s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := appliance.ParseCitizenIDAt(s, testNow)
		masked := appliance.MaskCitizenID(s)
		n := utf8.RuneCountInString(masked) // runes of the number as normalised
		checkMaskedID(t, masked)
		if err != nil {
			if appliance.ErrorField(err) != "id_number" || appliance.ErrorCode(err) != appliance.EINVALID {
				t.Fatalf("ParseCitizenID(%q): error %v has field %q, code %q", s, err, appliance.ErrorField(err), appliance.ErrorCode(err))
			}
			msg := appliance.ErrorMessage(err)
			switch {
			case n == 0 && msg != "请填写身份证号":
				t.Fatalf("ParseCitizenID(%q) of nothing: %q", s, msg)
			case n == 15 && strings.HasPrefix(msg, "这是旧的15位身份证号"):
				// A first-generation number has its own reason (issue 10).
			case n != 0 && n != 18 && msg != fmt.Sprintf("身份证号应为18位，现为%d位", n):
				t.Fatalf("ParseCitizenID(%q) of %d characters: %q", s, n, msg)
			}
			return
		}
		checkCitizenID(t, s, c)
		if masked != c.Masked() {
			t.Fatalf("MaskCitizenID(%q)=%q, but the parsed number masks as %q", s, masked, c.Masked())
		}
		for _, spelling := range []string{c.Number, strings.ToLower(c.Number), widen(c.Number), " " + strings.Join(strings.SplitAfter(c.Number, ""), "\u3000") + "\t"} {
			if again, err := appliance.ParseCitizenIDAt(spelling, testNow); err != nil || again != c {
				t.Fatalf("%q parses to %+v, its spelling %q to %+v, %v", s, c, spelling, again, err)
			}
		}
		if again := appliance.MakeCitizenID(c.Division, c.Birth, atoi(c.Number[14:17]), c.Male); again != c.Number {
			t.Fatalf("MakeCitizenID gives %s for %s", again, c.Number)
		}
		// ISO 7064 MOD 11-2 catches every single wrong digit and every
		// swap of two neighbours among the first 17.
		b := []byte(c.Number)
		for i := 0; i < 17; i++ {
			for d := byte('0'); d <= '9'; d++ {
				if d == c.Number[i] {
					continue
				}
				b[i] = d
				if _, err := appliance.ParseCitizenIDAt(string(b), testNow); err == nil {
					t.Fatalf("%s with digit %d changed to %c: accepted", c.Number, i+1, d)
				}
			}
			b[i] = c.Number[i]
			if i < 16 && b[i] != b[i+1] {
				b[i], b[i+1] = b[i+1], b[i]
				if _, err := appliance.ParseCitizenIDAt(string(b), testNow); err == nil {
					t.Fatalf("%s with digits %d and %d swapped: accepted", c.Number, i+1, i+2)
				}
				b[i], b[i+1] = b[i+1], b[i]
			}
		}
		// The form's gender and birth date are checked against the number
		// (testNow is in the past, so what parsed then parses today).
		if err := appliance.CheckCitizenID(s, c.Gender(), c.Birth); err != nil {
			t.Fatalf("CheckCitizenID(%q, %s, %s): %v", s, c.Gender(), c.Birth.Format("2006-01-02"), err)
		}
		other := map[string]string{"男": "女", "女": "男"}[c.Gender()]
		if err := appliance.CheckCitizenID(s, other, time.Time{}); appliance.ErrorField(err) != "gender" {
			t.Fatalf("CheckCitizenID(%q, %s): %v, want an error on gender", s, other, err)
		}
		if err := appliance.CheckCitizenID(s, "", c.Birth.AddDate(0, 0, 1)); appliance.ErrorField(err) != "birth_date" {
			t.Fatalf("CheckCitizenID(%q) with the day after its birth: %v, want an error on birth_date", s, err)
		}
	})
}

// checkCitizenID checks that c says what its number says, computed here
// independently of the parser.
func checkCitizenID(t *testing.T, in string, c appliance.CitizenID) {
	t.Helper()
	if !regexp.MustCompile(`^[0-9]{17}[0-9X]$`).MatchString(c.Number) {
		t.Fatalf("ParseCitizenID(%q): number %q", in, c.Number)
	}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(c.Number[i]-'0') * ((1 << (17 - i)) % 11)
	}
	if want := "10X98765432"[sum%11]; c.Number[17] != want {
		t.Fatalf("ParseCitizenID(%q) accepted %s: check digit should be %c", in, c.Number, want)
	}
	if c.Division != c.Number[:6] {
		t.Fatalf("%s: Division %q", c.Number, c.Division)
	}
	if got := c.Birth.Format("20060102"); got != c.Number[6:14] || c.Birth.Location() != time.UTC || !c.Birth.Equal(c.Birth.Truncate(24*time.Hour)) {
		t.Fatalf("%s: Birth %v", c.Number, c.Birth)
	}
	if c.Birth.Year() < 1890 || c.Birth.After(testNow.Add(24*time.Hour)) {
		t.Fatalf("%s: born %s accepted", c.Number, c.Birth.Format("2006-01-02"))
	}
	if male := (c.Number[16]-'0')%2 == 1; c.Male != male || c.Gender() != map[bool]string{true: "男", false: "女"}[male] {
		t.Fatalf("%s: Male %v, Gender %s", c.Number, c.Male, c.Gender())
	}
	if want := c.Number[:6] + "********" + c.Number[14:]; c.Masked() != want || c.String() != c.Number {
		t.Fatalf("%s: Masked %q, String %q", c.Number, c.Masked(), c.String())
	}
}

// checkMaskedID checks that a masked number hides all but its first 6 and
// last 4 characters, and everything when it is shorter than 11.
func checkMaskedID(t *testing.T, masked string) {
	t.Helper()
	r := []rune(masked)
	hidden := r
	if len(r) >= 11 {
		hidden = r[6 : len(r)-4]
	}
	if strings.Trim(string(hidden), "*") != "" {
		t.Fatalf("masked %q shows too much", masked)
	}
}

// widen spells ASCII letters and digits full-width, as Chinese input
// methods type them.
func widen(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '!' && r <= '~' {
			return r - '!' + '！'
		}
		return r
	}, s)
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}

// seedID is MakeCitizenID for a date given as numbers.
func seedID(prefix string, y, m, d int, male bool) string {
	return appliance.MakeCitizenID(prefix, time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), 417, male)
}

func BenchmarkParseCitizenID(b *testing.B) {
	for b.Loop() {
		if _, err := appliance.ParseCitizenIDAt("410184199003071235", testNow); err != nil {
			b.Fatal(err)
		}
	}
}

func TestCitizenIDReasons(t *testing.T) {
	for _, tc := range []struct{ in, reason string }{
		{"", "missing_id"},
		{"410184870314123", "old_15_digit_id"},
		{"4101841990030712355", "bad_id_length"},
		{"41018419900307A235", "bad_id_chars"},
		{"990184199003071238", "bad_id_region"},
		{"410184202602301236", "bad_id_birth"},
		{"410184199003071234", "bad_check_digit"},
	} {
		_, err := appliance.ParseCitizenIDAt(tc.in, testNow)
		if got := appliance.ErrorReason(err); got != tc.reason {
			t.Errorf("%q: reason %q, want %q", tc.in, got, tc.reason)
		}
	}
	// The first-generation rule: 19 before the year and a check digit.
	up, ok := appliance.UpgradeCitizenID15("410184870314123")
	if !ok || up != "410184198703141236" {
		t.Fatalf("upgrade = %q %v", up, ok)
	}
	if _, err := appliance.ParseCitizenIDAt(up, testNow); err != nil {
		t.Fatalf("upgraded number invalid: %v", err)
	}
	if _, ok := appliance.UpgradeCitizenID15("41018487031412X"); ok {
		t.Fatal("a 15-character number with a letter upgraded")
	}
}
