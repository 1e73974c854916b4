package appliance

import "strings"

// RevealPurposes are the usual reasons to see a full ID number or phone;
// the page offers them, and any other reason may be written.
var RevealPurposes = []string{"核对低保", "医保参保缴费", "出具证明", "入户核查", "代办服务", "联系本人"}

// ValidatePurpose checks the reason given for seeing personal data
// unmasked: it is written into the ledger with the reveal, so it must say
// something.
func ValidatePurpose(purpose string) error {
	if len([]rune(strings.TrimSpace(purpose))) < 2 {
		return FieldError("purpose", "请选择或填写查看完整号码的用途（将记入日志）")
	}
	return optionalText("purpose", "用途", purpose, 60)
}
