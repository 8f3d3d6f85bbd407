package lua

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/agext/levenshtein"
	glua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"github.com/okru-run/okru-run/okru"
)

// ScriptError is a failure while a script ran: a Lua runtime error, an
// error() the script raised, an API error it did not catch, a result that
// cannot become JSON, or the run's context ending (timeout, interruption).
//
// Its text is "report.lua:12: message", or "report.lua: message" when no
// line is known (a result conversion error happens after the last line ran).
type ScriptError struct {
	File string // the script's name as given to Compile or Run
	Line int    // 1-based; 0 when unknown
	Msg  string
	// Traceback is Lua's stack traceback at the error, for a verbose view.
	// It is not part of Error(): most users need only file:line.
	Traceback string
	// Err is the Go error behind Msg, if any: the *okru.Error (or other
	// Caller error) of an okru.call the script did not catch, or the
	// context's error when the run was stopped. errors.As and errors.Is see
	// it through the ScriptError.
	Err error
}

func (e *ScriptError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

func (e *ScriptError) Unwrap() error { return e.Err }

// SyntaxError is a script that does not compile. Line and Column are
// 1-based, so that the HCL layer can turn it into a diagnostic with a range.
// Column is 0 when only the line is known (errors found after parsing, like
// a goto without a label).
type SyntaxError struct {
	File   string
	Line   int
	Column int
	Msg    string
}

func (e *SyntaxError) Error() string {
	if e.Column > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// newSyntaxError turns gopher-lua's parse and compile errors, whose texts
// are not Lua's usual ones, into a SyntaxError with a position.
func newSyntaxError(name string, source []byte, err error) *SyntaxError {
	if pe, ok := errors.AsType[*parse.Error](err); ok {
		if pe.Pos.Line == parse.EOF {
			line, col := endOf(source)
			return &SyntaxError{File: name, Line: line, Column: col, Msg: pe.Message + " at end of file"}
		}
		// The scanner reports the position of the token's last character.
		col := pe.Pos.Column
		if !strings.Contains(pe.Token, "\n") {
			col -= len(pe.Token) - 1
		}
		return &SyntaxError{File: name, Line: pe.Pos.Line, Column: max(col, 1), Msg: fmt.Sprintf("%s near '%s'", pe.Message, pe.Token)}
	}
	if ce, ok := errors.AsType[*glua.CompileError](err); ok {
		last, _ := endOf(source)
		return &SyntaxError{File: name, Line: min(max(ce.Line, 1), last), Msg: ce.Message}
	}
	return &SyntaxError{File: name, Line: 1, Msg: err.Error()}
}

// endOf returns the line and column just after the last character. Lines
// end as Lua's scanner ends them: at \n, \r, \r\n or \n\r.
func endOf(source []byte) (line, col int) {
	line, col = 1, 1
	for i := 0; i < len(source); i++ {
		c := source[i]
		if c != '\n' && c != '\r' {
			col++
			continue
		}
		if i+1 < len(source) && source[i+1] != c && (source[i+1] == '\n' || source[i+1] == '\r') {
			i++
		}
		line, col = line+1, 1
	}
	return line, col
}

// callError is the Lua error value of a failed okru.call: a userdata whose
// fields are code, name, message, method, class and data. It keeps the Go
// error so that errors.As(err, **okru.Error) works on what Run returns.
type callError struct {
	method string
	err    error
	line   int // the line of the okru.call, 0 if unknown
}

func (c *callError) apiError() *okru.Error {
	e, _ := errors.AsType[*okru.Error](c.err)
	return e
}

// message is ok.ru's error_msg as sent, or the Caller's error text when the
// call failed before an answer (transport, encoding).
func (c *callError) message() string {
	if e := c.apiError(); e != nil {
		if e.Msg != "" {
			return e.Msg
		}
		return e.Code.Name()
	}
	return c.err.Error()
}

// fields is the error as a JSON object, used when a script returns it.
func (c *callError) fields() map[string]any {
	m := map[string]any{"method": c.method, "message": c.message()}
	if e := c.apiError(); e != nil {
		m["code"] = int(e.Code)
		m["name"] = e.Name()
		m["class"] = string(e.Class())
	}
	return m
}

// wrapCallError gives a Caller error the method as context, unless it
// already says it (okru errors read "call friends.get: ...").
func wrapCallError(method string, err error) error {
	if _, ok := errors.AsType[*okru.Error](err); ok || strings.HasPrefix(err.Error(), "call "+method+":") {
		return err
	}
	return fmt.Errorf("call %s: %w", method, err)
}

// timeoutError is the cause of the context Run makes for Options.Timeout.
type timeoutError struct{ d time.Duration }

func (e *timeoutError) Error() string { return "timeout after " + e.d.String() }

// stopMessage says why the run's context ended.
func stopMessage(ctx context.Context) string {
	cause := context.Cause(ctx)
	if te, ok := errors.AsType[*timeoutError](cause); ok {
		return "script stopped: " + te.Error()
	}
	switch {
	case cause != nil && cause != ctx.Err():
		return "script stopped: " + cause.Error()
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "script stopped: deadline exceeded"
	}
	return "script stopped: interrupted"
}

// scriptError turns what PCall returned into a *ScriptError.
func (r *runtime) scriptError(ctx context.Context, err error) error {
	aerr, ok := errors.AsType[*glua.ApiError](err)
	if !ok {
		return &ScriptError{File: r.name, Msg: err.Error(), Err: err}
	}
	se := &ScriptError{File: r.name, Traceback: aerr.StackTrace}
	switch obj := aerr.Object.(type) {
	case glua.LString:
		se.Line, se.Msg = r.splitPosition(string(obj))
		se.Msg = r.nameFailure(se.Line, se.Msg)
	case glua.LNumber:
		se.Msg = obj.String()
	case *glua.LUserData:
		if ce, ok := obj.Value.(*callError); ok {
			se.Line, se.Msg, se.Err = ce.line, ce.err.Error(), ce.err
		}
	}
	if se.Msg == "" {
		se.Msg = r.describeErrorValue(aerr.Object)
	}
	if hint, ok := limitHints[se.Msg]; ok {
		se.Msg += ": " + hint
	}
	if se.Line == 0 {
		se.Line = r.tracebackLine(aerr.StackTrace)
	}
	if ctx.Err() != nil {
		se.Msg, se.Err = stopMessage(ctx), ctx.Err()
	}
	return se
}

// limitHints explain gopher-lua's terse errors for the state's bounds.
var limitHints = map[string]string{
	"stack overflow":         fmt.Sprintf("calls nested more than %d deep (endless recursion?)", callStackSize),
	"lua callstack overflow": fmt.Sprintf("calls nested more than %d deep (endless recursion?)", callStackSize),
	"registry overflow":      fmt.Sprintf("more than %d values at once on the Lua stack (a huge unpack or argument list?)", registryMaxSize),
}

// splitPosition splits "report.lua:12: msg" as Lua writes runtime errors.
func (r *runtime) splitPosition(s string) (int, string) {
	rest, ok := strings.CutPrefix(s, r.name+":")
	if !ok {
		return 0, s
	}
	num, msg, ok := strings.Cut(rest, ": ")
	line, err := strconv.Atoi(num)
	if !ok || err != nil {
		return 0, s
	}
	return line, msg
}

// tracebackLine finds the innermost line of the script in a traceback, for
// errors raised with a value that carries no position.
func (r *runtime) tracebackLine(tb string) int {
	for l := range strings.Lines(tb) {
		if line, _ := r.splitPosition(strings.TrimSpace(l)); line > 0 {
			return line
		}
	}
	return 0
}

// describeErrorValue writes an error value that is not a string: its
// __tostring if it has one, else its JSON form.
func (r *runtime) describeErrorValue(v glua.LValue) string {
	if r.L.GetMetaField(v, "__tostring") != glua.LNil {
		// __tostring is script code: run it protected; a failure (or the
		// run's context having ended) falls back to the JSON form.
		tostring := r.L.NewFunction(func(L *glua.LState) int {
			L.Push(L.ToStringMeta(L.Get(1)))
			return 1
		})
		if err := r.L.CallByParam(glua.P{Fn: tostring, NRet: 1, Protect: true}, v); err == nil {
			s := r.L.Get(-1)
			r.L.Pop(1)
			if str, ok := s.(glua.LString); ok {
				return string(str)
			}
		}
	}
	if b, err := r.encodeJSON(v, "error"); err == nil {
		return "error value " + string(b)
	}
	return "error value of type " + v.Type().String()
}

// gopher-lua's errors for calling or indexing nil do not say what was nil
// (Lua's own say "attempt to call field 'cal'"). When the failing line
// reads MODULE.FIELD of a module table that has no FIELD, that is the
// likely culprit: nameFailure names it and the closest field the module
// has.
var (
	callFailure  = "attempt to call a non-function object"
	indexFailure = regexp.MustCompile(`^attempt to index a non-table object\(nil\) with key '([^']*)'$`)
	// MODULE.FIELD followed by what calls it: (, a string or a table.
	calledField = regexp.MustCompile(`\b([A-Za-z_]\w*)\s*\.\s*([A-Za-z_]\w*)\s*(?:\(|"|'|\[\[|\{)`)
	// MODULE.FIELD followed by what indexes it.
	indexedField = regexp.MustCompile(`\b([A-Za-z_]\w*)\s*\.\s*([A-Za-z_]\w*)\s*(?:\.|\[|:)`)
)

func (r *runtime) nameFailure(line int, msg string) string {
	re, what := calledField, "function"
	if msg != callFailure {
		if !indexFailure.MatchString(msg) {
			return msg
		}
		re, what = indexedField, "field"
	}
	text := sourceLine(r.source, line)
	for _, m := range re.FindAllStringSubmatch(stripStrings(text), -1) {
		mod, field := m[1], m[2]
		t, ok := r.modules[mod].(*glua.LTable)
		if !ok || t.RawGetString(field) != glua.LNil || r.L.GetGlobal(mod) != t {
			continue
		}
		out := fmt.Sprintf("%s.%s is not a %s of %s", mod, field, what, mod)
		keys := tableKeys(t)
		if guess := closest(field, keys); guess != "" {
			return out + fmt.Sprintf("; did you mean %s.%s?", mod, guess)
		}
		if len(keys) <= 8 {
			return out + fmt.Sprintf(" (it has %s)", strings.Join(keys, ", "))
		}
		return out
	}
	return msg
}

// sourceLine returns line n (1-based) of source, "" if there is none.
func sourceLine(source []byte, n int) string {
	if n < 1 {
		return ""
	}
	for l := range strings.Lines(string(source)) {
		if n--; n == 0 {
			return l
		}
	}
	return ""
}

// stripStrings blanks short string literals and comments, so that text in
// them is not read as code.
func stripStrings(line string) string {
	line = quoted.ReplaceAllStringFunc(line, func(q string) string { return q[:1] + strings.Repeat(" ", len(q)-2) + q[len(q)-1:] })
	if i := strings.Index(line, "--"); i >= 0 {
		line = line[:i]
	}
	return line
}

var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)

// tableKeys returns the string keys of t, sorted.
func tableKeys(t *glua.LTable) []string {
	var keys []string
	t.ForEach(func(k, _ glua.LValue) {
		if s, ok := k.(glua.LString); ok {
			keys = append(keys, string(s))
		}
	})
	slices.Sort(keys)
	return keys
}

// closest returns the candidate within a few edits of name, "" if none.
func closest(name string, candidates []string) string {
	best, bestDist := "", max(1, (len(name)+1)/3)+1
	for _, c := range candidates {
		if d := levenshtein.Distance(strings.ToLower(name), strings.ToLower(c), nil); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}
