package lua

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"
)

func TestSyntaxErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		src       string
		line, col int
		text      string
	}{
		{"unexpected symbol", "local x = = 1", 1, 11, "report.lua:1:11: syntax error near '='"},
		{"second line", "local x = 1\nfor i = 1 do end", 2, 11, "report.lua:2:11: syntax error near 'do'"},
		{"bad number", "local ok = true\nlocal x = 0x", 2, 11, "report.lua:2:11: illegal hexadecimal number near '0x'"},
		{"unterminated string", "local a = 1\nlocal s = 'abc", 2, 15, "report.lua:2:15: unterminated string at end of file"},
		{"unclosed table", "local t = {\n  a = 1,\n", 3, 1, "report.lua:3:1: syntax error at end of file"},
		{"unclosed comment", "--[[ never closed", 1, 18, "report.lua:1:18: invalid multiline comment at end of file"},
		{"missing end", "if true then\n  x = 1\n", 3, 1, "report.lua:3:1: syntax error at end of file"},
		{"goto without label", "goto nowhere", 1, 0, "report.lua:1: no visible label 'nowhere' for <goto> at line 1"},
		{"break outside loop", "local x = 1\nbreak", 2, 0, "report.lua:2: no loop to break"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, err := range []error{
				Check("report.lua", []byte(tt.src)),
				func() error { _, err := Run(t.Context(), "report.lua", []byte(tt.src), Options{}); return err }(),
			} {
				se, ok := errors.AsType[*SyntaxError](err)
				if !ok {
					t.Fatalf("got %v (%T), want a *SyntaxError", err, err)
				}
				if se.File != "report.lua" || se.Line != tt.line || se.Column != tt.col || err.Error() != tt.text {
					t.Errorf("got %q (line %d, column %d), want %q (line %d, column %d)", err, se.Line, se.Column, tt.text, tt.line, tt.col)
				}
			}
		})
	}
	if err := Check("ok.lua", []byte("return 1")); err != nil {
		t.Errorf("Check of a good script: %v", err)
	}
}

func TestRuntimeErrorPositions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		line int
		text string
	}{
		{"index nil", "local t = nil\nreturn t.x", 2, "report.lua:2: t is nil, not a table"},
		{"arithmetic", "local a = {}\n\nreturn a + 1", 3, "report.lua:3: cannot perform add operation between table and number"},
		{"error string", "error('boom')", 1, "report.lua:1: boom"},
		{"error at caller's level", "local function check(x)\n  error('bad x', 2)\nend\ncheck(1)", 4, "report.lua:4: bad x"},
		{"error without position", "local a = 1\nerror('plain', 0)", 2, "report.lua:2: plain"},
		{"error table", "\nerror({code = 5, why = 'x'})", 2, `report.lua:2: error value {"code":5,"why":"x"}`},
		{"error with __tostring", "error(setmetatable({}, {__tostring = function() return 'custom failure' end}))", 1, "report.lua:1: custom failure"},
		{"error number", "error(42)", 1, "report.lua:1: 42"},
		{"error without a value", "error()", 1, "report.lua:1: bad argument #1 to error (value expected)"},
		{"error at level 3", "local function check(x)\n  error('deep', 3)\nend\nlocal function api(x)\n  check(x)\nend\n\napi(1)", 8, "report.lua:8: deep"},
		{"assert", "local n = 0\nassert(n > 0, 'n must be positive')", 2, "report.lua:2: n must be positive"},
		{"bad argument", "return string.rep()", 1, "report.lua:1: bad argument #1 to rep (string expected, got nil)"},
		{"in a nested function", "local function f()\n  local x = nil\n  return #x\nend\nreturn f()", 3, "report.lua:3: __len undefined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Run(t.Context(), "report.lua", []byte(tt.src), Options{})
			se := wantError(t, err, tt.text)
			if se.Line != tt.line {
				t.Errorf("Line = %d, want %d (%v)", se.Line, tt.line, err)
			}
		})
	}
}

// TestNamedFailures: calling or indexing what is not a function or table
// names it as the script wrote it, says what it is, and suggests the name
// meant, where gopher-lua says only "attempt to call a non-function
// object".
func TestNamedFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, text string
	}{
		{"module function", `local r = okru.cal("users.getCurrentUser")`, "report.lua:1: okru.cal is not a function of okru; did you mean okru.call?"},
		{"called with a string", "\nreturn okru.sesions'x'", "report.lua:2: okru.sesions is not a function of okru; did you mean okru.sessions?"},
		{"json", "return json.encod({})", "report.lua:1: json.encod is not a function of json; did you mean json.encode?"},
		{"standard library", "return string.fromat('%d', 1)", "report.lua:1: string.fromat is not a function of string; did you mean string.format?"},
		{"required module", "local ok = require('okru')\nreturn ok.paginat('x')", "report.lua:2: ok.paginat is not a function of ok; did you mean ok.paginate?"},
		{"nothing close", "return okru.frobnicate()", "report.lua:1: okru.frobnicate is not a function of okru (it has call, paginate, pcall, session, sessions, topic_attachment, upload_photos, upload_video)"},
		{"global", `lg("x")`, "report.lua:1: lg is nil, not a function; did you mean log?"},
		{"global print", "local n = 1\nprnt(n)", "report.lua:2: prnt is nil, not a function; did you mean print?"},
		{"second call of a line", "return tostring(1) .. tostrin(2)", "report.lua:1: tostrin is nil, not a function; did you mean tostring?"},
		{"inside a string", `local s = "okru.cal(" .. nothing()`, "report.lua:1: nothing is nil, not a function"},
		{"local", "local f = nil\nreturn okru.call, f()", "report.lua:2: f is nil, not a function"},
		{"local close to another", "local count = function() end\nlocal n = cont()", "report.lua:2: cont is nil, not a function; did you mean count?"},
		{"upvalue", "local v = 1\nlocal function g() return v() end\ng()", "report.lua:2: v is a number, not a function"},
		{"alias", "local o = okru\no.cal('x')", "report.lua:2: o.cal is not a function of o; did you mean o.call?"},
		{"method", "local o = okru\nlocal r = o:cal('x')", "report.lua:2: o:cal is not a method of o; did you mean o:call?"},
		{"string method", "local s = 'abc'\nreturn s:uper()", "report.lua:2: s:uper is not a method of s; did you mean s:upper?"},
		{"user table", "local t = {}\nt.x()", "report.lua:2: t.x is not a function of t (t is empty)"},
		{"tail call", "local t = {a = 1}\nreturn t.x()", "report.lua:2: t.x is not a function of t (it has a)"},
		{"field of another type", "local t = {x = 'text'}\nt.x()", "report.lua:2: t.x is a string, not a function"},
		{"numeric key", "local t = {1}\nreturn t[1]()", "report.lua:2: t[1] is a number, not a function"},
		{"through __index", "local t = setmetatable({}, {__index = {hello = print}})\nt.helo()", "report.lua:2: t.helo is not a function of t; did you mean t.hello?"},
		{"result of a call", "local function f() return nil end\nf()()", "report.lua:2: attempt to call a nil value"},
		{"for over a table", "for k in {} do end", "report.lua:1: the iterator of this for loop is a table, not a function (to loop over a table, use pairs(t) or ipairs(t))"},
		{"index a field", "return okru.foo.bar", "report.lua:1: okru.foo is not a field of okru (it has call, paginate, pcall, session, sessions, topic_attachment, upload_photos, upload_video)"},
		{"index deeper", "local t = {a = {}}\nreturn t.a.b.c", "report.lua:2: t.a.b is not a field of t.a (t.a is empty)"},
		{"index a local", "local cfg = nil\nreturn cfg.x", "report.lua:2: cfg is nil, not a table"},
		{"assign to a field of a global", "local config = {}\nconfg.x = 1", "report.lua:2: confg is nil, not a table; did you mean config?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Run(t.Context(), "report.lua", []byte(tt.src), Options{})
			wantError(t, err)
			if err.Error() != tt.text {
				t.Errorf("got %q, want %q", err, tt.text)
			}
		})
	}
}

// TestErrorsInLibraries: an error in a library names the library's file
// and line, and the lines that called into it.
func TestErrorsInLibraries(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"lua/util.lua": `local M = {}
function M.me()
  error("boom")
end
function M.table() error({code = 5}) end
function M.typo() lg("x") end
function M.deeper() return require("inner").run() + 1 end
function M.blame(x) error("bad x", 2) end
function M.call() return okru.call("friends.get", {}) end
return M`,
		"lua/inner.lua": "local M = {}\nfunction M.run()\n  error('inner')\nend\nreturn M",
		"lua/top.lua":   "local x = 1\nerror('at load')",
	})
	util, inner, top := filepath.Join(dir, "lua", "util.lua"), filepath.Join(dir, "lua", "inner.lua"), filepath.Join(dir, "lua", "top.lua")
	at := func(file string, line int) Position { return Position{File: file, Line: line} }
	tests := []struct {
		name, src  string
		text       string
		file       string
		line       int
		calledFrom []Position
	}{
		{"error", "-- a\n\nlocal util = require('util')\nutil.me()", util + ":3: boom (called from report.lua:4)", util, 3, []Position{at("report.lua", 4)}},
		{"error value", "local util = require('util')\nutil.table()", util + `:5: error value {"code":5} (called from report.lua:2)`, util, 5, []Position{at("report.lua", 2)}},
		{"tail call from the script", "-- a\nlocal util = require('util')\nreturn util.me()", util + ":3: boom", util, 3, nil},
		{"typo", "local util = require('util')\nutil.typo()", util + ":6: lg is nil, not a function; did you mean log? (called from report.lua:2)", util, 6, []Position{at("report.lua", 2)}},
		{"library of a library", "local util = require('util')\nlocal n = util.deeper()", inner + ":3: inner (called from " + util + ":7, report.lua:2)", inner, 3, []Position{at(util, 7), at("report.lua", 2)}},
		{"while loading", "local x = 1\nrequire('top')", top + ":2: at load (called from report.lua:2)", top, 2, []Position{at("report.lua", 2)}},
		{"blames the script", "local util = require('util')\n\nutil.blame(1)", "report.lua:3: bad x", "report.lua", 3, nil},
		{"function missing", "local util = require('util')\nutil.mee()", "report.lua:2: util.mee is not a function of util; did you mean util.me?", "report.lua", 2, nil},
		{"API error", "local util = require('util')\nutil.call()", util + ":9: call friends.get: PARAM_SESSION_EXPIRED (102): Session expired (called from report.lua:2)", util, 9, []Position{at("report.lua", 2)}},
	}
	libs := NewLibraries(dir)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fc := &fakeCaller{errs: map[string]error{"friends.get": sessionExpired("friends.get")}}
			_, err := Run(t.Context(), "report.lua", []byte(tt.src), Options{Libraries: libs, Caller: fc})
			se := wantError(t, err)
			if err.Error() != tt.text {
				t.Errorf("got %q, want %q", err, tt.text)
			}
			if se.File != tt.file || se.Line != tt.line || !slices.Equal(se.CalledFrom, tt.calledFrom) {
				t.Errorf("at %s:%d called from %v, want %s:%d called from %v", se.File, se.Line, se.CalledFrom, tt.file, tt.line, tt.calledFrom)
			}
		})
	}
}
