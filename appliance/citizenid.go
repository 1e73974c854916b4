package appliance

import (
	"fmt"
	"strings"
	"time"
	"unicode"
)

// CitizenID is a parsed Chinese citizen ID number (GB 11643-1999).
type CitizenID struct {
	Number   string    // normalised: 18 characters, last one 0-9 or X
	Division string    // first 6 digits: division where it was issued (GB/T 2260)
	Birth    time.Time // birth date, midnight UTC
	Male     bool      // 17th digit odd
}

// Gender returns "男" or "女", as people enter it on forms.
func (c CitizenID) Gender() string {
	if c.Male {
		return "男"
	}
	return "女"
}

func (c CitizenID) String() string { return c.Number }

// Masked returns the number with its middle hidden (MaskCitizenID).
func (c CitizenID) Masked() string { return MaskCitizenID(c.Number) }

// citizenIDWeights are 2^(17-i) mod 11 (ISO 7064 MOD 11-2).
var citizenIDWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// citizenIDCheck maps the weighted sum mod 11 to the check character.
const citizenIDCheck = "10X98765432"

// provinceCodes are the first two digits of real province-level divisions.
var provinceCodes = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true,
	"21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true,
	"50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true,
	"71": true, // 台湾
	"81": true, // 香港
	"82": true, // 澳门
	"83": true, // 台湾居民居住证
}

// minBirth is the earliest birth date accepted; older ones are typing errors.
var minBirth = time.Date(1890, 1, 1, 0, 0, 0, 0, time.UTC)

// clockFloor stands in for "today" when the clock says earlier: boxes
// without a real-time clock may boot in 1970 and must still accept IDs.
var clockFloor = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// chinaTime decides what "today" is for birth dates.
var chinaTime = time.FixedZone("CST", 8*3600)

// normalizeCitizenID removes spaces and folds full-width digits and x to ASCII.
func normalizeCitizenID(s string) string {
	var b strings.Builder
	b.Grow(18)
	for _, r := range s {
		r = narrow(r)
		if unicode.IsSpace(r) {
			continue
		}
		if r == 'x' {
			r = 'X'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ParseCitizenID checks a citizen ID number and returns what it says. Spaces
// are ignored, full-width digits and a lowercase x accepted.
func ParseCitizenID(s string) (CitizenID, error) {
	return ParseCitizenIDAt(s, time.Now())
}

// ParseCitizenIDAt is ParseCitizenID with "now" given, for tests and replays.
func ParseCitizenIDAt(s string, now time.Time) (CitizenID, error) {
	n := normalizeCitizenID(s)
	if n == "" {
		return CitizenID{}, idError("missing_id", "请填写身份证号")
	}
	if l := len([]rune(n)); l != 18 {
		if l == 15 && strings.Trim(n, "0123456789") == "" {
			return CitizenID{}, idError("old_15_digit_id", "这是旧的15位身份证号（2013年起停用）")
		}
		return CitizenID{}, idError("bad_id_length", "身份证号应为18位，现为%d位", l)
	}
	for i := 0; i < 18; i++ {
		c := n[i]
		if c >= '0' && c <= '9' || i == 17 && c == 'X' {
			continue
		}
		if i == 17 {
			return CitizenID{}, idError("bad_id_chars", "身份证号最后一位应为数字或X")
		}
		return CitizenID{}, idError("bad_id_chars", "身份证号前17位应全为数字")
	}
	if !provinceCodes[n[:2]] {
		return CitizenID{}, idError("bad_id_region", "身份证号前两位不是有效的省级行政区划代码")
	}
	y, m, d := atoi(n[6:10]), atoi(n[10:12]), atoi(n[12:14])
	birth := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if birth.Year() != y || int(birth.Month()) != m || birth.Day() != d {
		return CitizenID{}, idError("bad_id_birth", "身份证号中的出生日期无效")
	}
	if birth.Before(minBirth) {
		return CitizenID{}, idError("bad_id_birth", "身份证号中的出生日期无效（早于1890年）")
	}
	if now.Before(clockFloor) {
		now = clockFloor
	}
	ty, tm, td := now.In(chinaTime).Date()
	if birth.After(time.Date(ty, tm, td, 0, 0, 0, 0, time.UTC)) {
		return CitizenID{}, idError("bad_id_birth", "身份证号中的出生日期无效（晚于今天）")
	}
	if want := citizenIDCheckDigit(n[:17]); n[17] != want {
		// Ask for a check of every digit: a wrong digit anywhere shows up
		// here, and "fixing" the last one would make a valid but wrong
		// number; so the expected digit is not shown.
		return CitizenID{}, idError("bad_check_digit", "身份证号校验位不符，有数字录错：请对照本人身份证逐位核对（不要只改最后一位）")
	}
	return CitizenID{
		Number:   n,
		Division: n[:6],
		Birth:    birth,
		Male:     (n[16]-'0')%2 == 1,
	}, nil
}

// atoi parses ASCII digits already checked.
func atoi(s string) int {
	v := 0
	for i := 0; i < len(s); i++ {
		v = v*10 + int(s[i]-'0')
	}
	return v
}

// citizenIDCheckDigit computes the 18th character from the first 17 digits.
func citizenIDCheckDigit(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * citizenIDWeights[i]
	}
	return citizenIDCheck[sum%11]
}

// CheckCitizenID parses id and cross-checks the gender ("男"/"女") and birth
// date entered beside it. An empty gender or a zero birth is not checked.
// The birth date is compared by its calendar date in its own location.
func CheckCitizenID(id, gender string, birth time.Time) error {
	c, err := ParseCitizenID(id)
	if err != nil {
		return err
	}
	switch strings.TrimSpace(gender) {
	case "":
	case "男", "女":
		if strings.TrimSpace(gender) != c.Gender() {
			return &Error{Code: EINVALID, Field: "gender", Reason: "gender_mismatch", Message: fmt.Sprintf("性别与身份证号不符：身份证号显示为%s", c.Gender())}
		}
	default:
		return FieldError("gender", "性别应为“男”或“女”")
	}
	if !birth.IsZero() {
		y, m, d := birth.Date()
		if y != c.Birth.Year() || m != c.Birth.Month() || d != c.Birth.Day() {
			return &Error{Code: EINVALID, Field: "birth_date", Reason: "birth_mismatch", Message: fmt.Sprintf("出生日期与身份证号不符：身份证号中为%s", c.Birth.Format("2006年1月2日"))}
		}
	}
	return nil
}

// MaskCitizenID shows only the first 6 and last 4 characters, as
// "410184********1234". Anything too short to mask that way is hidden whole.
func MaskCitizenID(s string) string {
	r := []rune(normalizeCitizenID(s))
	if len(r) < 11 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:6]) + strings.Repeat("*", len(r)-10) + string(r[len(r)-4:])
}

// MakeCitizenID builds a valid number for demo data and tests. The last digit
// of seq3 (0–999) is adjusted to match the gender. It panics if prefix6 is not
// six digits or the year has not four: programming errors.
func MakeCitizenID(prefix6 string, birth time.Time, seq3 int, male bool) string {
	if len(prefix6) != 6 || strings.Trim(prefix6, "0123456789") != "" {
		panic(fmt.Sprintf("MakeCitizenID: bad prefix %q", prefix6))
	}
	if y := birth.Year(); y < 1000 || y > 9999 {
		panic(fmt.Sprintf("MakeCitizenID: bad birth year %d", y))
	}
	seq3 = ((seq3 % 1000) + 1000) % 1000
	if (seq3%2 == 1) != male {
		seq3 ^= 1
	}
	first17 := fmt.Sprintf("%s%04d%02d%02d%03d", prefix6, birth.Year(), int(birth.Month()), birth.Day(), seq3)
	return first17 + string(citizenIDCheckDigit(first17))
}

func idError(reason, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: "id_number", Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// UpgradeCitizenID15 turns a first-generation 15-digit number into the
// 18-digit one the usual rule gives (19 inserted before the year, a check
// digit appended). It is a suggestion to check against the person's card:
// numbers were sometimes re-issued, so it is never stored unchecked.
func UpgradeCitizenID15(s string) (string, bool) {
	n := normalizeCitizenID(s)
	if len(n) != 15 || strings.Trim(n, "0123456789") != "" {
		return "", false
	}
	first17 := n[:6] + "19" + n[6:]
	return first17 + string(citizenIDCheckDigit(first17)), true
}
