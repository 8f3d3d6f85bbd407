package okru

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
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
//
// Msg and Data are the server's text with every secret of the session
// removed (see Redact), since a server may echo what it was sent.
type Error struct {
	Method string          // the API method called, e.g. "friends.get"
	Code   Code            // error_code
	Msg    string          // error_msg as sent, e.g. "PARAM_SESSION_EXPIRED : Session expired"
	Data   json.RawMessage // error_data, often null

	// DidYouMean lists catalog methods close to Method when the server
	// answered METHOD (3), an unknown method: most often a typo.
	DidYouMean []string
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
	if len(e.DidYouMean) > 0 && !strings.Contains(msg, "did you mean") {
		s += "; did you mean " + strings.Join(e.DidYouMean, " or ") + "?"
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

// ErrSessionRequired and ErrSessionProhibited are returned, wrapped, before
// any network traffic when the catalog says a method needs a user session
// and the session has none, or forbids one and the session has one. They
// match the codes the server would answer, so
// errors.Is(err, okru.CodeSessionRequired) holds as well.
var (
	ErrSessionRequired error = &sessionRuleError{CodeSessionRequired,
		"okru: method needs a user session: call it with a session holding an access token (TokenSession, ServerSession or ClientSession)"}
	ErrSessionProhibited error = &sessionRuleError{CodeNotSessionMethod,
		"okru: method must be called without a user session: call it with okru.AppSession(appKey, appSecretKey)"}
)

type sessionRuleError struct {
	code Code
	text string
}

func (e *sessionRuleError) Error() string { return e.text }

// Is makes the rule errors match the server's code for the same fault.
func (e *sessionRuleError) Is(target error) bool {
	c, ok := target.(Code)
	return ok && c == e.code
}

// TransportError is a failed exchange with the server: DNS, dial, TLS, a
// broken connection, a timeout or a cancelled context. It unwraps to the
// cause (context.Canceled, *net.OpError, *url.Error with the URL redacted).
type TransportError struct {
	Method string
	// Sent is false when the request surely never left this machine (the
	// connection could not be made); then any call may be retried. When
	// true the server may have run the call.
	Sent bool
	Err  error
}

func (e *TransportError) Error() string {
	hint := ""
	if !e.Sent && !errors.Is(e.Err, context.Canceled) && !errors.Is(e.Err, context.DeadlineExceeded) {
		hint = " (is the API URL right and the server reachable?)"
	}
	return "call " + e.Method + ": " + Redact(e.Err.Error()) + hint
}

func (e *TransportError) Unwrap() error { return e.Err }

// DecodeError is an answer that is not an ok.ru API answer: an HTTP status
// other than 200, a content type other than JSON, or a body that is not
// JSON, or a result that does not decode into the value CallInto was given.
// Such answers usually come from a proxy, a wrong API URL or an outage.
type DecodeError struct {
	Method      string
	Status      int    // HTTP status code
	ContentType string // Content-Type of the answer
	Excerpt     string // the start of the body, secrets removed
	Err         error  // the JSON error, if decoding failed
}

func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString("call ")
	b.WriteString(e.Method)
	b.WriteString(": unexpected answer")
	if e.Status != 0 && e.Status != http.StatusOK {
		fmt.Fprintf(&b, ": HTTP %d %s", e.Status, http.StatusText(e.Status))
	}
	if e.ContentType != "" {
		fmt.Fprintf(&b, ", content type %q", e.ContentType)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Excerpt != "" {
		fmt.Fprintf(&b, ", body %q", e.Excerpt)
	}
	if e.Status != 0 && e.Status != http.StatusOK {
		b.WriteString(" (check the API URL; retry later if the service is down)")
	}
	return b.String()
}

func (e *DecodeError) Unwrap() error { return e.Err }

// excerptLen is how much of an unexpected body a DecodeError keeps: enough
// to recognise an HTML error page or a proxy's message.
const excerptLen = 160

// excerpt shortens an already redacted body: redact first, so that no
// secret is cut in two and left half visible.
func excerpt(body string) string {
	body = strings.TrimSpace(body)
	if len(body) > excerptLen {
		return strings.ToValidUTF8(body[:excerptLen], "") + "..."
	}
	return strings.ToValidUTF8(body, "")
}
