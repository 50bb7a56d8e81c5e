// Package veil holds Veil's domain types and error codes. It imports only the
// standard library; storage, HTTP and crypto live in internal/ packages.
package veil

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status in one place (internal/server).
const (
	ECONFLICT       = "conflict"        // 409
	EINTERNAL       = "internal"        // 500
	EINVALID        = "invalid"         // 400
	ENOTFOUND       = "not_found"       // 404
	EUNAUTHORIZED   = "unauthorized"    // 401
	EFORBIDDEN      = "forbidden"       // 403
	ETOOLARGE       = "too_large"       // 413
	EUNSUPPORTED    = "unsupported"     // 415
	ERATELIMITED    = "rate_limited"    // 429
	EUNAVAILABLE    = "unavailable"     // 503
	ENOTIMPLEMENTED = "not_implemented" // 501
)

// Error is an error whose Message is safe to show to a user or client.
// Internal details travel in wrapped errors and are only logged.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("veil error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of the first *Error in err's
// chain, or a generic message for any other error.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}
