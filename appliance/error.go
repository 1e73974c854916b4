// Package appliance is the domain of gridbox: its types, the ledger entry
// format, validation and the service interfaces that the store implements.
package appliance

import (
	"errors"
	"fmt"
)

// Error codes. The UI maps each to an HTTP status in one table.
const (
	ECONFLICT     = "conflict"
	EFORBIDDEN    = "forbidden"
	EINTERNAL     = "internal"
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	EUNAUTHORIZED = "unauthorized"
	ELOCKED       = "locked"
	ETOOMANY      = "too_many_requests" // a rate limit: try again later
	ETOOLARGE     = "too_large"         // a request body over its route's limit
	EBUSY         = "busy"              // the box is short of memory or storage for now
	ESTORAGE      = "storage_full"      // the disk is full: writes fail until it is freed
	EUNSUPPORTED  = "unsupported_media" // a body in another format than the route takes
)

// Error is an error the user can act on: its Message is Chinese text for
// people, Field names the input it concerns, if any.
type Error struct {
	Code    string
	Message string
	Field   string
	Reason  string // a stable machine-readable reason within Code (bad_check_digit…), where one is given
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("gridbox error: code=%s field=%s message=%s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("gridbox error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an EINVALID error about one input field.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Message: fmt.Sprintf(format, args...), Field: field}
}

// ErrorCode returns the code of an *Error in err's chain, EINTERNAL otherwise.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err; internal errors get a
// generic text so that no details leak to people.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "系统内部错误，请稍后重试或联系管理员"
}

// ErrorField returns the field an *Error in err's chain is about.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// ErrorReason returns the reason of an *Error in err's chain ("" if none).
func ErrorReason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}
