package lua

import (
	"errors"
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
		{"index nil", "local t = nil\nreturn t.x", 2, "report.lua:2: attempt to index a non-table object(nil) with key 'x'"},
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

// TestNamedFailures: calling or indexing a field a module does not have
// names the field and the one meant, where gopher-lua says only "attempt
// to call a non-function object".
func TestNamedFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, text string
	}{
		{"call", `local r = okru.cal("users.getCurrentUser")`, "report.lua:1: okru.cal is not a function of okru; did you mean okru.call?"},
		{"call with a string", "\nreturn okru.sesions'x'", "report.lua:2: okru.sesions is not a function of okru; did you mean okru.sessions?"},
		{"json", "return json.encod({})", "report.lua:1: json.encod is not a function of json; did you mean json.encode?"},
		{"standard library", "return string.fromat('%d', 1)", "report.lua:1: string.fromat is not a function of string; did you mean string.format?"},
		{"required", "local ok = require('okru')\nreturn okru.paginat('x')", "report.lua:2: okru.paginat is not a function of okru; did you mean okru.paginate?"},
		{"nothing close", "return okru.frobnicate()", "report.lua:1: okru.frobnicate is not a function of okru (it has call, paginate, pcall, session, sessions, topic_attachment, upload_photos, upload_video)"},
		{"index", "return okru.foo.bar", "report.lua:1: okru.foo is not a field of okru (it has call, paginate, pcall, session, sessions, topic_attachment, upload_photos, upload_video)"},
		{"in a string", `local s = "okru.cal(" .. nothing()`, "report.lua:1: attempt to call a non-function object"},
		{"not a module", "local t = {}\nreturn t.x()", "report.lua:2: attempt to call a non-function object"},
		{"present field", "local f = nil\nreturn okru.call, f()", "report.lua:2: attempt to call a non-function object"},
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
