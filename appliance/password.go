package appliance

import (
	"strings"

	"github.com/trustelem/zxcvbn"
)

// Passwords people choose must resist guessing, not only be long: zxcvbn
// (Dropbox's estimator, with its lists of common passwords, names and
// words) must rate them at least "somewhat guessable" (score 2, about a
// million guesses), and the passwords most used in China are refused by
// name, since zxcvbn's lists are mostly English. One-time passwords the box
// makes are random and not checked here.

// commonPasswordsCN are passwords common in China that zxcvbn rates too
// well: pinyin phrases, love numbers, keyboard runs with QQ habits.
var commonPasswordsCN = map[string]bool{
	"woaini1314": true, "woaini520": true, "woaini521": true, "5201314": true, "52013140": true,
	"1314520": true, "13145200": true, "woaini123": true, "woaini1234": true, "wodemima": true,
	"mima1234": true, "mima123456": true, "qq123456": true, "qq5201314": true, "zhang123": true,
	"wang123456": true, "li123456": true, "liu123456": true, "chen123456": true, "zhongguo123": true,
	"aini1314": true, "iloveyou1314": true, "a5201314": true, "caonima": true, "nihao123": true,
	"nihao123456": true, "huawei123": true, "xiaomi123": true, "123456abc": true, "abc123456": true,
	"admin123": true, "admin888": true, "admin666": true, "88888888a": true, "a88888888": true,
	"66666666a": true, "gridbox123": true, "wangge123": true, "wanggeyuan": true, "zhiban123": true,
}

// CheckPasswordStrength refuses a password a person chose if it is too
// easy to guess; inputs are the account's own words (username, name,
// village) that must not make up the password.
func CheckPasswordStrength(pw string, inputs ...string) error {
	if err := ValidatePassword(pw); err != nil {
		return err
	}
	if commonPasswordsCN[strings.ToLower(pw)] {
		return FieldError("password", "这个密码太常见，很容易被猜到，请换一个")
	}
	words := []string{"gridbox", "wangge", "zhiban", "cunwei", "admin"}
	for _, in := range inputs {
		if in = strings.TrimSpace(in); in != "" {
			words = append(words, in)
		}
	}
	if r := zxcvbn.PasswordStrength(pw, words); r.Score < 2 {
		return FieldError("password", "这个密码太容易被猜到（如常见密码、连续数字、用户名或姓名加数字），请换一个更长、更不规律的密码")
	}
	return nil
}
