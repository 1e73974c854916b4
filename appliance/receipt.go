package appliance

import (
	"crypto/rand"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// receiptAlphabet has one character per group of look-alikes: 0 stands for
// O, 1 for I and L, 2 for Z, 5 for S, 6 for G, 8 for B, V for U. Codes never
// contain the others, and NormalizeReceiptCode reads them as their stand-in,
// so whatever a person copies or hears, the code comes out the same.
const receiptAlphabet = "0123456789ACDEFHJKMNPQRTVWXY"

// ReceiptCodeChars are the characters receipt codes are made of, in the
// order of the kiosk's keypad.
func ReceiptCodeChars() string { return receiptAlphabet }

// receiptLookalikes maps characters outside the alphabet to their stand-in.
var receiptLookalikes = map[rune]rune{
	'O': '0', 'I': '1', 'L': '1', 'Z': '2', 'S': '5', 'G': '6', 'B': '8', 'U': 'V',
}

// ReceiptCodeLen is the number of characters in a receipt code, without the dash.
const ReceiptCodeLen = 8

// NewReceiptCode returns a random receipt code grouped as "K7M4-9QPD":
// 28^8 ≈ 3.8×10^11 codes (38 bits), drawn independently, so one code says
// nothing about another. r is the randomness; nil means crypto/rand.
func NewReceiptCode(r io.Reader) string {
	b := make([]byte, 0, ReceiptCodeLen+1)
	for i, c := range randomIndexes(r, ReceiptCodeLen, len(receiptAlphabet)) {
		if i == ReceiptCodeLen/2 {
			b = append(b, '-')
		}
		b = append(b, receiptAlphabet[c])
	}
	return string(b)
}

// NormalizeReceiptCode reads a code as typed: case, spaces and dashes do not
// matter, full-width characters and look-alikes (O for 0…) are accepted. It
// returns the code as NewReceiptCode writes it.
func NormalizeReceiptCode(input string) (string, error) {
	var b []byte
	n := 0
	for _, r := range input {
		r = narrow(r)
		if unicode.IsSpace(r) || r == '-' || r == '—' || r == '–' || r == '_' {
			continue
		}
		r = unicode.ToUpper(r)
		if s, ok := receiptLookalikes[r]; ok {
			r = s
		}
		if r > unicode.MaxASCII || !strings.ContainsRune(receiptAlphabet, r) {
			return "", FieldError("code", "回执码中有无效字符“%c”，只能是数字和字母", r)
		}
		n++
		if n > ReceiptCodeLen {
			continue // count them all for the message
		}
		if n == ReceiptCodeLen/2+1 {
			b = append(b, '-')
		}
		b = append(b, byte(r))
	}
	if n == 0 {
		return "", FieldError("code", "请输入回执码")
	}
	if n != ReceiptCodeLen {
		return "", FieldError("code", "回执码应为%d位，现为%d位", ReceiptCodeLen, n)
	}
	return string(b), nil
}

// NewPIN returns 4 random digits, e.g. for a receipt's lookup PIN.
// r is the randomness; nil means crypto/rand.
func NewPIN(r io.Reader) string {
	b := make([]byte, 4)
	for i, c := range randomIndexes(r, 4, 10) {
		b[i] = byte('0' + c)
	}
	return string(b)
}

// NormalizePIN reads a lookup PIN as typed: spaces do not matter and
// full-width digits count. Anything but 4 digits is refused here, before it
// can count as a wrong try.
func NormalizePIN(input string) (string, error) {
	b := make([]byte, 0, 4)
	for _, r := range input {
		r = narrow(r)
		if unicode.IsSpace(r) {
			continue
		}
		if r < '0' || r > '9' || len(b) == 4 {
			return "", FieldError("pin", "请输入回执上的4位查询密码")
		}
		b = append(b, byte(r))
	}
	if len(b) != 4 {
		return "", FieldError("pin", "请输入回执上的4位查询密码")
	}
	return string(b), nil
}

// randomIndexes returns n uniform numbers in [0, size) read from r, size ≤ 256.
// Bytes that would bias the result are skipped. A failing reader panics:
// crypto/rand does not fail, and a code from broken randomness is worse.
func randomIndexes(r io.Reader, n, size int) []int {
	if r == nil {
		r = rand.Reader
	}
	limit := 256 - 256%size
	out := make([]int, 0, n)
	buf := make([]byte, n+8)
	for len(out) < n {
		if _, err := io.ReadFull(r, buf); err != nil {
			panic(fmt.Sprintf("read randomness: %v", err))
		}
		for _, c := range buf {
			if int(c) < limit && len(out) < n {
				out = append(out, int(c)%size)
			}
		}
	}
	return out
}
