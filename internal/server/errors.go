package server

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/veil-privacy/veil"
)

// statuses maps veil error codes to HTTP statuses, in one place.
var statuses = map[string]int{
	veil.EINVALID:        http.StatusBadRequest,
	veil.EUNAUTHORIZED:   http.StatusUnauthorized,
	veil.EFORBIDDEN:      http.StatusForbidden,
	veil.ENOTFOUND:       http.StatusNotFound,
	veil.ECONFLICT:       http.StatusConflict,
	veil.ETOOLARGE:       http.StatusRequestEntityTooLarge,
	veil.EUNSUPPORTED:    http.StatusUnsupportedMediaType,
	veil.ERATELIMITED:    http.StatusTooManyRequests,
	veil.EINTERNAL:       http.StatusInternalServerError,
	veil.ENOTIMPLEMENTED: http.StatusNotImplemented,
	veil.EUNAVAILABLE:    http.StatusServiceUnavailable,
}

// StatusFor returns the HTTP status for a veil error code.
func StatusFor(code string) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ErrorBody is the JSON shape of every error response.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Error writes err as a JSON error response. Only the user-safe message of a
// *veil.Error reaches the client; internal errors are logged (without
// request content) and answered with a generic message.
func Error(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	code := veil.ErrorCode(err)
	if code == veil.EINTERNAL && log != nil {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	var body ErrorBody
	body.Error.Code = code
	body.Error.Message = veil.ErrorMessage(err)
	WriteJSON(w, StatusFor(code), body)
}

// WriteJSON writes v as a JSON response with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
