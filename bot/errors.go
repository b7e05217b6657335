package bot

import (
	"errors"
	"fmt"
)

// Error codes. They say what kind of failure happened so that callers can
// decide what to do without parsing messages.
const (
	EINTERNAL    = "internal"    // a bug or an outage: log it, show a generic apology
	EINVALID     = "invalid"     // the person gave a value we cannot use: show Message
	ENOTFOUND    = "not_found"   // no such user, step or row
	EUNREACHABLE = "unreachable" // the platform says this person cannot be messaged (blocked, gone)
	ETRANSIENT   = "transient"   // worth retrying later (rate limit, 5xx, network)
)

// Error is an error whose Message is safe to show to the person.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("trustbot error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted user-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of err, or a generic one for
// internal errors, which must never be shown as they are.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != EINTERNAL {
		return e.Message
	}
	return "Something went wrong on my side. Please try again in a moment."
}
