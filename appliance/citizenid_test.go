package appliance_test

import (
	"math/rand"
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
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

func FuzzParseCitizenID(f *testing.F) {
	for _, s := range []string{
		"11010519491231002X", "410184199003071235", "４１０１８４１９９００３０７１２３５",
		"", "x", "41018419900230123X", "𠇔𠇔𠇔𠇔𠇔𠇔𠇔𠇔𠇔𠇔𠇔𠇔𠇔𠇔𠇔𠇔𠇔𠇔", "\xff\xfe410184199003071235",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := appliance.ParseCitizenIDAt(s, testNow)
		_ = appliance.MaskCitizenID(s)
		if err != nil {
			if appliance.ErrorField(err) != "id_number" {
				t.Fatalf("error without field: %v", err)
			}
			return
		}
		if len(c.Number) != 18 {
			t.Fatalf("Number %q", c.Number)
		}
		if again := appliance.MakeCitizenID(c.Division, c.Birth, int(c.Number[14]-'0')*100+int(c.Number[15]-'0')*10+int(c.Number[16]-'0'), c.Male); again != c.Number {
			t.Fatalf("MakeCitizenID gives %s for %s", again, c.Number)
		}
	})
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
