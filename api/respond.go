package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/ferrysync/ferry/fsm"
)

// StatusCoder is an error that knows its HTTP status.
type StatusCoder interface {
	error
	StatusCode() int
}

// ErrorBody is every native API error: {"error": "..."}.
type ErrorBody struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, ErrorBody{Error: fmt.Sprintf(format, args...)})
}

// StatusOf maps an error from the service or the state to the HTTP status
// the native API answers it with (a dialect maps errors to its own codes
// from it).
func StatusOf(err error) int {
	var sc StatusCoder
	if errors.As(err, &sc) {
		return sc.StatusCode()
	}
	if code, ok := storeStatus(err); ok {
		return code
	}
	switch fsm.KindOf(err) {
	case fsm.KindInvalid:
		return http.StatusBadRequest
	case fsm.KindNotFound:
		return http.StatusNotFound
	case fsm.KindConflict:
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

func writeServiceError(w http.ResponseWriter, err error) {
	writeError(w, StatusOf(err), "%s", err.Error())
}

const maxBodyBytes = 1 << 20

// TooLarge is whether err is the read error of a body over its
// http.MaxBytesReader bound: answered 413, not 400.
func TooLarge(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}

// decodeBody reads a JSON body strictly: unknown fields and trailing data are errors.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		switch {
		case errors.Is(err, io.EOF):
			writeError(w, http.StatusBadRequest, "request body is empty; expected a JSON object")
		case TooLarge(err):
			writeError(w, http.StatusRequestEntityTooLarge, "request body is larger than %d bytes", maxBodyBytes)
		default:
			writeError(w, http.StatusBadRequest, "invalid JSON body: %v", err)
		}
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "invalid JSON body: data after the object")
		return false
	}
	return true
}

// closeUnread closes the connection after an answer given before the
// request's body was read: net/http would otherwise wait to drain a body
// the client may never send.
func closeUnread(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength != 0 {
		w.Header().Set("Connection", "close")
	}
}

// Answer serves what call returns as JSON with 200, or its error as the
// native API answers errors: for routes another package mounts (Mount)
// whose handlers return data or an error.
func Answer[T any](call func(r *http.Request) (T, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := call(r)
		if err != nil {
			writeServiceError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	})
}
