package lua

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
// line is known (a result conversion error happens after the last line
// ran). A failure in a library the script required names the library's
// line and the lines that called it: "lua/util.lua:3: boom (called from
// report.lua:4)".
type ScriptError struct {
	// File and Line are where it failed: the script's name as given to
	// Compile or Run, or a library's file. Line is 1-based; 0 when unknown.
	File string
	Line int
	Msg  string
	// CalledFrom are the lines that led to File:Line when it is not in the
	// script itself, innermost first, up to the script's line that called
	// into the library.
	CalledFrom []Position
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
	s := e.File + ": " + e.Msg
	if e.Line > 0 {
		s = fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	if len(e.CalledFrom) > 0 {
		from := make([]string, len(e.CalledFrom))
		for i, p := range e.CalledFrom {
			from[i] = p.String()
		}
		s += " (called from " + strings.Join(from, ", ") + ")"
	}
	return s
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
	// stack is where the okru.call was made, innermost first: the error
	// may be raised again elsewhere.
	stack []Position
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

// scriptError turns what PCall returned into a *ScriptError, with what
// the message handler of protectedCall saw.
func (r *runtime) scriptError(ctx context.Context, err error) error {
	aerr, ok := errors.AsType[*glua.ApiError](err)
	if !ok {
		return &ScriptError{File: r.name, Msg: err.Error(), Err: err}
	}
	f := r.failure
	if f == nil {
		f = &failure{}
	}
	se := &ScriptError{File: r.name, Traceback: aerr.StackTrace}
	if len(f.frames) > 0 {
		se.Traceback = traceback(f.frames)
	}
	stack := luaPositions(f.frames)
	var at Position
	switch obj := aerr.Object.(type) {
	case glua.LString:
		at, se.Msg = cutPosition(string(obj), append(stack, Position{File: r.name}))
		if f.named != "" {
			se.Msg = f.named
		}
	case glua.LNumber:
		se.Msg = obj.String()
	case *glua.LUserData:
		if ce, ok := obj.Value.(*callError); ok {
			se.Msg, se.Err, stack = ce.err.Error(), ce.err, ce.stack
		}
	}
	if se.Msg == "" {
		se.Msg = r.describeErrorValue(aerr.Object)
	}
	if hint, ok := limitHints[se.Msg]; ok {
		se.Msg += ": " + hint
	}
	if at.Line == 0 && len(stack) > 0 {
		at = stack[0]
	}
	if at.Line > 0 {
		se.File, se.Line, se.CalledFrom = at.File, at.Line, r.calledFrom(at, stack)
	}
	if ctx.Err() != nil {
		se.Msg, se.Err = stopMessage(ctx), ctx.Err()
	}
	return se
}

// calledFrom are the lines of stack above at up to the first in the
// script itself; none when at is in the script.
func (r *runtime) calledFrom(at Position, stack []Position) []Position {
	i := slices.Index(stack, at)
	if at.File == r.name || i < 0 {
		return nil
	}
	var out []Position
	for _, p := range stack[i+1:] {
		out = append(out, p)
		if p.File == r.name || len(out) == maxCalledFrom {
			break
		}
	}
	return out
}

// maxCalledFrom bounds ScriptError.CalledFrom: a library's own depth
// matters little once its entry point is named.
const maxCalledFrom = 5

// limitHints explain gopher-lua's terse errors for the state's bounds.
var limitHints = map[string]string{
	"stack overflow":         fmt.Sprintf("calls nested more than %d deep (endless recursion?)", callStackSize),
	"lua callstack overflow": fmt.Sprintf("calls nested more than %d deep (endless recursion?)", callStackSize),
	"registry overflow":      fmt.Sprintf("more than %d values at once on the Lua stack (a huge unpack or argument list?)", registryMaxSize),
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
// A name is never all edits: x is no typo of a.
func closest(name string, candidates []string) string {
	best, bestDist := "", min(max(1, (len(name)+1)/3)+1, len(name))
	for _, c := range candidates {
		if d := levenshtein.Distance(strings.ToLower(name), strings.ToLower(c), nil); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}
