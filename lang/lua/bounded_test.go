package lua

import (
	"context"
	"errors"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	glua "github.com/yuin/gopher-lua"
)

// TestStringFunctionsAgree runs each expression in okru-run's state and in
// a plain gopher-lua state: the bounded replacements give the same
// answers as gopher-lua's functions where those follow Lua 5.1.
func TestStringFunctionsAgree(t *testing.T) {
	t.Parallel()
	exprs := []string{
		`{("hello world"):gsub("o", "0")}`,
		`{("hello"):gsub("", "-")}`,
		`{("abc"):gsub("%w*", "-")}`,
		`{("hello world"):gsub("(%w+)", "<%1>")}`,
		`{("hello world"):gsub("%w+", "%0 %0", 1)}`,
		`{("x = 1, y = 2"):gsub("(%w+) = (%w+)", "%2 = %1")}`,
		`{("aaa"):gsub("^a", "x")}`,
		`{("abc"):gsub("()", "%1")}`,
		`{("hello"):gsub("l", {l = "L"})}`,
		`{("$name is $age"):gsub("%$(%w+)", {name = "bob", age = 3})}`,
		`{("a,b,,c"):gsub(",", function() return nil end)}`,
		`{("one two"):gsub("(%w+)", function(w) return w:upper() end)}`,
		`{("abc"):gsub("b", "%%")}`,
		`{("abc"):gsub("[", "x")}`,
		`(function() local t = {} for w in ("one two  three"):gmatch("%a+") do t[#t+1] = w end return t end)()`,
		`(function() local t = {} for k, v in ("a=1, b=2"):gmatch("(%w+)=(%w+)") do t[#t+1] = k .. v end return t end)()`,
		`(function() local t = {} for p in ("abc"):gmatch("()b") do t[#t+1] = p end return t end)()`,
		`(function() local n = 0 for _ in ("abc"):gmatch("") do n = n + 1 end return n end)()`,
		`(function() local t = {} for w, p in ("word "):rep(150):gmatch("(%a+)()") do t[#t+1] = w .. p end return table.concat(t, ",") end)()`,
		`(function() local n = 0 for _ in ("x"):rep(200):gmatch("") do n = n + 1 end return n end)()`,
		`(function() local n = 0 for _ in ("xx"):rep(100):gmatch("^x") do n = n + 1 end return n end)()`,
		`{("hello world"):find("o w")}`,
		`{("hello world"):find("o", 6)}`,
		`{("hello world"):find("l+")}`,
		`{("hello world"):find("(h)(e)")}`,
		`{("a.b"):find(".", 1, true)}`,
		`{("hello"):find("xyz")}`,
		`{("hello"):find("l", -2)}`,
		`{("key = value"):match("(%w+) = (%w+)")}`,
		`{("hello"):match("l+")}`,
		`{("hello"):match("()ll()")}`,
		`{("hello"):match("^h")}`,
		`{("hello"):match("^e")}`,
		`{("hello"):match("l", 4)}`,
		`{("hello"):find("[")}`,
		`table.concat({1, 2, "three"}, ", ")`,
		`table.concat({"a", "b", "c", "d"}, "-", 2, 3)`,
		`table.concat({})`,
		`table.concat({"a"}, ",", 3)`,
		`string.format("%5.2f|%-5s|%d|%q|%x|%%", 3.14159, "ab", 42, 'a"b', 255)`,
		`{("MiXeD"):upper(), ("MiXeD"):lower(), ("abc"):reverse(), ("x"):rep(3), (""):reverse()}`,
		`#("x"):rep(16 * 1024 * 1024):upper()`,
	}
	for _, expr := range exprs {
		t.Run(expr, func(t *testing.T) {
			t.Parallel()
			src := "return " + expr
			want := plainLua(t, src)
			got, err := runScript(t, src, Options{})
			if err != nil {
				got = "error"
			}
			if got != want {
				t.Errorf("okru-run: %s\ngopher-lua: %s", got, want)
			}
		})
	}
}

// plainLua runs src in a plain gopher-lua state and returns its result as
// okru-run's JSON, or "error".
func plainLua(t *testing.T, src string) string {
	t.Helper()
	L := glua.NewState()
	defer L.Close()
	if err := L.DoString(src); err != nil {
		return "error"
	}
	r, err := newRuntime("test.lua", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	out, err := r.encodeJSON(L.Get(-1), "result")
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestStringLimit: a string function refuses to build a result beyond the
// run's string limit (MaxResultBytes), at once and whatever the memory
// guard says. These are the attacks of issue 11: each used to build
// gigabytes, or work for minutes, inside one VM instruction.
func TestStringLimit(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, src, want string }{
		{"concat of 200 16-MiB strings",
			`local s = ("x"):rep(16 * 1024 * 1024 - 1) local t = {} for i = 1, 200 do t[i] = s end return #table.concat(t)`,
			"table.concat: the result would be longer than the 16 MiB limit"},
		{"concat with a long separator",
			`local t = {} for i = 1, 1000 do t[i] = "" end return #table.concat(t, ("x"):rep(1024 * 1024))`,
			"table.concat: the result would be longer than the 16 MiB limit"},
		{"rep", `return #("x"):rep(1e12)`, "string.rep: the result would be longer than the 16 MiB limit"},
		{"gsub of a string by itself", `local s = ("x"):rep(6000) return #s:gsub(".", s)`,
			"string.gsub: the result would be longer than the 16 MiB limit"},
		{"gsub by a function", `local s = ("x"):rep(1e6) return #s:gsub(".", function(c) return ("y"):rep(400) end)`,
			"string.gsub: the result would be longer than the 16 MiB limit"},
		{"format with huge widths", `local t = {} for i = 1, 100 do t[i] = 1 end return #string.format(("%999999d"):rep(100), unpack(t))`,
			"string.format: the result would be longer than the 16 MiB limit"},
		{"format of a long string", `local s = ("x"):rep(9 * 1024 * 1024) return #string.format("%s%s", s, s)`,
			"string.format: the result would be longer than the 16 MiB limit"},
		{"upper", `return #input:upper()`, "string.upper: the result would be longer than the 16 MiB limit"},
		{"doubling with ..", `local s = "x" while true do s = s .. s end`,
			"test.lua:1: concatenation (..): the result would be longer than the 16 MiB limit"},
		{"a chain of ..", `local s = ("x"):rep(6 * 1024 * 1024) return #(s .. "," .. s .. "," .. s)`,
			"concatenation (..): the result would be longer than the 16 MiB limit"},
		{".. in a function", `local function twice(s) return s .. s end local s = "x" for i = 1, 40 do s = twice(s) end`,
			"test.lua:1: concatenation (..): the result would be longer than the 16 MiB limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Only an input can be longer than the limit: nothing in a
			// script builds one.
			_, err := runScript(t, tt.src, Options{MaxMemory: -1, Input: strings.Repeat("x", 17<<20)})
			wantError(t, err, tt.want)
		})
	}
}

// TestStringMemoryGuard: with a string limit above the memory guard's, a
// string function asks the guard before it builds its result, so one call
// cannot take the heap past the limit between two of the guard's samples.
// Not parallel: the heap is the process's.
func TestStringMemoryGuard(t *testing.T) {
	tests := []struct{ name, src string }{
		{"rep", `return #("x"):rep(48 * 1024 * 1024)`},
		{"concat", `local s = ("x"):rep(12 * 1024 * 1024) return #table.concat({s, s, s, s})`},
		{"gsub", `return #("x"):rep(1024 * 1024):gsub("x", ("y"):rep(40))`},
		{"format", `local s = ("x"):rep(12 * 1024 * 1024) return #string.format("%s%s%s", s, s, s)`},
		{"..", `local s = ("x"):rep(12 * 1024 * 1024) return #(s .. s .. s)`},
		{"short .. in a loop", `local s, t = ("x"):rep(1000), {} for i = 1, 200000 do t[i] = s .. i end`}, // 200 MB
	}
	// No samples between instructions: what stops each is the check
	// before its result is built.
	interval := memoryInterval
	memoryInterval = time.Hour
	defer func() { memoryInterval = interval }()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The guard counts growth from the heap at the start: garbage of
			// earlier tests collected during the run would give room.
			goruntime.GC()
			_, err := runScript(t, tt.src, Options{MaxMemory: 32 << 20, MaxResultBytes: 256 << 20})
			wantError(t, err, "script stopped: memory limit of 32 MiB exceeded")
			if !errors.Is(err, context.Canceled) {
				t.Errorf("errors.Is(err, context.Canceled) is false for %v", err)
			}
		})
	}
}

// TestStringWorkStops: a timeout stops a script that keeps a string
// function busy: gopher-lua's gsub copied its whole output once per match,
// so that one call on a 4 MiB string ran for hours between two checks of
// the context. The loop makes the outcome the same on any machine.
func TestStringWorkStops(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, src string }{
		{"gsub", `local s = ("x"):rep(4 * 1024 * 1024) while true do s:gsub("x", "yy") end`},
		{"gsub with a pattern", `local s = ("ab"):rep(2 * 1024 * 1024) while true do s:gsub("(a)(b)", "%2%1") end`},
		{"gmatch", `local s = ("x"):rep(8 * 1024 * 1024) while true do for c in s:gmatch(".") do end end`},
		{"concat", `local t = {} for i = 1, 1e6 do t[i] = "x" end while true do table.concat(t, ",") end`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := runScript(t, tt.src, Options{Timeout: 50 * time.Millisecond})
			wantError(t, err, "script stopped: timeout after 50ms")
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("errors.Is(err, context.DeadlineExceeded) is false for %v", err)
			}
		})
	}
}

// TestStringStopInsideCall: a run cancelled while gsub calls back into Lua
// ends there: neither gsub nor the script's pcall swallows the stop.
func TestStringStopInsideCall(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	src := `
local s = ("x"):rep(4 * 1024 * 1024)
local n = 0
local ok, err = pcall(string.gsub, s, "x", function() n = n + 1 if n == 1 then log("stop") end return "y" end)
return n`
	_, err := Run(ctx, "stop.lua", []byte(src), Options{Log: func(string) { cancel() }})
	wantError(t, err, "script stopped: interrupted")
}

// TestPatternSearchStops: one search of a backtracking pattern can run for
// seconds (".-b" on 3,000 characters) or for ever, inside one instruction.
// Stopping the run ends the script inside that search, on its line, not
// after it. (The search takes over 30 times longer than the 20ms here.)
func TestPatternSearchStops(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"find":   "local r = s:find('.-b')",
		"match":  "local r = s:match('.-b')",
		"gsub":   "local r = s:gsub('.-b', '')",
		"gmatch": "for _ in s:gmatch('.-b') do end",
	}
	for name, call := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// The clock starts when the script logs, so it runs in the VM.
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			start := func(string) { time.AfterFunc(20*time.Millisecond, cancel) }
			src := "local s = ('a'):rep(3000) log('start')\n" + call + "\nwhile true do end"
			_, err := Run(ctx, "test.lua", []byte(src), Options{Log: start})
			se := wantError(t, err, "script stopped: interrupted")
			if se.Line != 2 {
				t.Errorf("stopped on line %d, want 2 (inside the search): %v", se.Line, err)
			}
		})
	}
}
