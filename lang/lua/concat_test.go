package lua

import (
	"strings"
	"testing"
)

// The .. operator, compiled to calls of the bounded concat, gives what
// gopher-lua's OP_CONCAT gives: the same strings, the same metamethod
// calls in the same order, the same errors at the same lines.
func TestConcatAgrees(t *testing.T) {
	t.Parallel()
	const mt = `local log = {}
local T = setmetatable({}, {__concat = function(a, b)
  log[#log+1] = type(a) .. "+" .. type(b)
  return "T"
end})
`
	exprs := []string{
		`"a" .. "b" .. "c"`,
		`1 .. 2`,
		`1.5 .. "x" .. -0.25 .. 1e100`,
		`"" .. ""`,
		`("x"):rep(3) .. ("y"):rep(2)`,
		`"a" .. ("b" .. "c") .. "d"`,
		`("a" .. "b") .. ("c" .. "d")`,
		`T .. "x"`,
		`"x" .. T`,
		`"a" .. T .. "b" .. "c"`,
		`"a" .. "b" .. T .. "c" .. 1`,
		`T .. T`,
		`{T .. 1, log}`,
		`(function() local s = "" for i = 1, 5 do s = s .. i .. "," end return s end)()`,
		`(function(...) return ... .. "!" end)("v", "w")`,
		`(function(...) return "!" .. ... end)("v", "w")`,
		`"#" .. ("a-b"):gsub("-", "_")`,
		`{"x" .. (function() return 1, 2 end)(), "y"}`,
		`(function() return "x" .. (function() return 1, 2 end)() end)()`,
		`select("#", "a" .. ("b"):rep(2))`,
		`{("a" .. "b"):upper(), #("a" .. "bc"), ("x" .. "y") == "xy"}`,
		`nil .. "a"`,
		`"a" .. {}`,
		`"a" .. "b" .. true`,
		`"a" ..
  nil`,
		`(function() return "a" .. nil end)()`,
	}
	for _, expr := range exprs {
		t.Run(expr, func(t *testing.T) {
			t.Parallel()
			src := mt + "return {pcall(function() return " + expr + " end)}"
			want := strings.ReplaceAll(plainLuaResult(t, src), `<string>`, `test.lua`)
			got := mustRun(t, src, Options{})
			if got != want {
				t.Errorf("okru-run: %s\ngopher-lua: %s", got, want)
			}
		})
	}
}

// plainLuaResult is plainLua that fails the test on an error.
func plainLuaResult(t *testing.T, src string) string {
	t.Helper()
	out := plainLua(t, src)
	if out == "error" {
		t.Fatalf("gopher-lua: error in\n%s", src)
	}
	return out
}

// The function .. calls cannot be reached or replaced from a script: it is
// not a name Lua source can write, and a chunk keeps its own copy, so a
// script that clears the global still concatenates, in functions too.
func TestConcatNotReachable(t *testing.T) {
	t.Parallel()
	src := `local f = function(a) return a .. "!" end
_G["(..)"] = nil
for k in pairs(_G) do if k:find("..", 1, true) then return "found " .. k end end
return f("a") .. "b"`
	if got := mustRun(t, src, Options{}); got != `"a!b"` {
		t.Errorf("got %s", got)
	}
}

// Every instruction of a compiled chunk has a line of the source, the
// prelude that fetches the concat function too: a run stopped at its first
// instruction (an interrupt as a library loads) names a line, not line 0.
func TestConcatPreludeLine(t *testing.T) {
	t.Parallel()
	s, err := Compile("lib.lua", []byte("\n\nlocal x = 'a' .. 'b'\nreturn x\n"))
	if err != nil {
		t.Fatal(err)
	}
	for pc, line := range s.proto.DbgSourcePositions {
		if line < 3 {
			t.Errorf("instruction %d is at line %d, before the first statement (line 3)", pc, line)
		}
	}
}
