package okru

import (
	"encoding/json"
	"fmt"
)

// Code is an ok.ru API error code. Every code known to the catalog has a
// named constant (CodeParamSessionExpired, CodeFloodBlocked, ...), and a Code
// is itself an error so that the constants work with errors.Is:
//
//	if errors.Is(err, okru.CodeParamSessionExpired) { ... }
type Code int

// Error returns the code's name and number, for example "PARAM_SESSION_EXPIRED (102)".
func (c Code) Error() string { return fmt.Sprintf("%s (%d)", c.Name(), int(c)) }

// Name returns ok.ru's name for the code, or "UNKNOWN_CODE" for a code not
// in the catalog.
func (c Code) Name() string {
	if info, ok := codeTable[c]; ok {
		return info.name
	}
	return "UNKNOWN_CODE"
}

// Class returns how a client should react to the code.
func (c Code) Class() Class {
	if info, ok := codeTable[c]; ok {
		return info.class
	}
	return ClassOther
}

// Class groups error codes by the reaction they call for.
type Class string

// The classes of data/errors.tsv.
const (
	ClassTransient  Class = "transient"  // retry with backoff
	ClassThrottle   Class = "throttle"   // slow down, then retry
	ClassAuth       Class = "auth"       // credentials are wrong or expired
	ClassPermission Class = "permission" // the app or token lacks a right
	ClassRequest    Class = "request"    // the request itself is wrong
	ClassOther      Class = "other"
)

type codeInfo struct {
	name  string
	class Class
}

// Error is an error answered by the ok.ru API: HTTP 200 with an
// Invocation-Error header and a body of
// {"error_code": ..., "error_msg": ..., "error_data": ...}.
type Error struct {
	Method string          // the API method called, e.g. "friends.get"
	Code   Code            // error_code
	Msg    string          // error_msg as sent, e.g. "PARAM_SESSION_EXPIRED : Session expired"
	Data   json.RawMessage // error_data, often null
}

func (e *Error) Error() string {
	msg := e.Msg
	// ok.ru prefixes the message with the code's name; do not say it twice.
	if name := e.Code.Name(); len(msg) > len(name) && msg[:len(name)] == name {
		msg = trimNamePrefix(msg[len(name):])
	}
	s := fmt.Sprintf("call %s: %s (%d)", e.Method, e.Code.Name(), int(e.Code))
	if msg != "" {
		s += ": " + msg
	}
	return s
}

// Is reports whether target is the same code, given as a Code or an *Error.
func (e *Error) Is(target error) bool {
	switch t := target.(type) {
	case Code:
		return e.Code == t
	case *Error:
		return e.Code == t.Code
	}
	return false
}

// Name returns ok.ru's name for the error code.
func (e *Error) Name() string { return e.Code.Name() }

// Class returns the class of the error code.
func (e *Error) Class() Class { return e.Code.Class() }

func trimNamePrefix(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == ':') {
		s = s[1:]
	}
	return s
}
