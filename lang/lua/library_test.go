package lua

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeFiles writes files (path: content) below dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRequireLibrary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"lua/text.lua": `
local M = {}
loads = (loads or 0) + 1
function M.shout(s) return s:upper() .. "!" end
function M.boom() error("boom") end
return M`,
		"lua/text/slug.lua": `return {slug = function(s) return (s:lower():gsub("%W+", "-")) end}`,
		"lua/uses_text.lua": `local text = require("text"); return {twice = function(s) return text.shout(s) .. text.shout(s) end}`,
		"lua/nothing.lua":   `x = 1`,
		"lua/broken.lua":    "local x =\n",
		"lua/a.lua":         `return require("b")`,
		"lua/b.lua":         `return require("a")`,
		"lua/escape.lua":    `return 1`,
	})
	outside := t.TempDir()
	writeFiles(t, outside, map[string]string{"secret.lua": `return "secret"`, "extra.lua": `return {from = "extra"}`})
	if err := os.Symlink(filepath.Join(outside, "secret.lua"), filepath.Join(dir, "lua", "secret.lua")); err != nil {
		t.Fatal(err)
	}
	libs := NewLibraries(dir, outside)

	tests := []struct{ name, src, want, err string }{
		{name: "library", src: `return require("text").shout("hi")`, want: `"HI!"`},
		{name: "sub-folder", src: `return require("text.slug").slug("Hello World")`, want: `"hello-world"`},
		{name: "loaded once per run", src: `require("text"); require("uses_text"); local a = require("text"); return {same = a == require("text"), loads = loads}`, want: `{"loads":1,"same":true}`},
		{name: "library requires library", src: `return require("uses_text").twice("a")`, want: `"A!A!"`},
		{name: "returns nothing", src: `return require("nothing")`, want: `true`},
		{name: "extra folder", src: `return require("extra").from`, want: `"extra"`},
		{name: "built-in first", src: `return require("json").encode({1})`, want: `"[1]"`},
		{name: "error has the library's line", src: "local t = require('text')\nt.boom()", err: filepath.Join(dir, "lua", "text.lua") + ":5: boom"},
		{name: "syntax error", src: `require("broken")`, err: filepath.Join(dir, "lua", "broken.lua") + ":2:"},
		{name: "cycle", src: `require("a")`, err: `requires itself (through a -> b)`},
		{name: "missing", src: `require("nope")`, err: `there is no nope.lua`},
		{name: "bad name", src: `require("../x")`, err: `is not a library name`},
		{name: "symlink out of the folder", src: `return require("secret")`, err: `require "secret": read`},
		{name: "same sandbox", src: `require("escape"); return io.open("x")`, err: `the io library is not available`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := runScript(t, tt.src, Options{Libraries: libs})
			if tt.err != "" {
				wantError(t, err, tt.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out != tt.want {
				t.Errorf("got %s, want %s", out, tt.want)
			}
		})
	}
}

func TestLibraryFunctions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"lua/text.lua": `
local M = {functions = {}}
function M.functions.slug(s) return (s:lower():gsub("%W+", "-")) end
function M.functions.join(list, sep) return table.concat(list, sep or ",") end
function M.functions.big() return {id = "9007199254740993"} end
function M.functions.dice() return math.random(1000000) end
function M.functions.forever() while true do end end
function M.functions.fn() return print end
function M.functions.cycle() local t = {}; t.t = t; return t end
function M.functions.raise(x)
  error("bad " .. tostring(x))
end
function M.functions.call() return okru.call("users.getInfo", {}) end
return M`,
		"lua/plain.lua": `return {helper = true}`,
	})
	libs := NewLibraries(dir)
	// Only forever should time out: under -race on a loaded machine a
	// fresh state that loads the library can take 200ms by itself.
	looping := NewLibraries(dir)
	looping.FunctionTimeout = 200 * time.Millisecond
	fns, err := libs.Functions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := FunctionNames(fns); got != "lua::big, lua::call, lua::cycle, lua::dice, lua::fn, lua::forever, lua::join, lua::raise, lua::slug" {
		t.Errorf("functions: %s", got)
	}
	raw := func(s ...string) []json.RawMessage {
		var out []json.RawMessage
		for _, a := range s {
			out = append(out, json.RawMessage(a))
		}
		return out
	}
	dice, err := libs.Call(t.Context(), "dice", nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []json.RawMessage
		want string
		err  string
	}{
		{name: "slug", args: raw(`"Hello, World"`), want: `"hello-world"`},
		{name: "join", args: raw(`["a","b"]`, `null`), want: `"a,b"`},
		{name: "big", want: `{"id":"9007199254740993"}`},
		{name: "dice", want: string(dice)}, // seeded: the same number each call
		{name: "forever", err: "timeout after 200ms"},
		{name: "fn", err: "result: "},
		{name: "cycle", err: "result.t"},
		{name: "raise", args: raw(`1`), err: filepath.Join(dir, "lua", "text.lua") + ":11: bad 1"},
		{name: "call", err: "lua:: functions are pure"},
		{name: "nope", err: `no library declares a function "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := libs
			if tt.name == "forever" {
				l = looping
			}
			out, err := l.Call(t.Context(), tt.name, tt.args)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %s, %v; want an error containing %q", out, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Errorf("got %s, want %s", out, tt.want)
			}
		})
	}
}

// TestLibraryFunctionInterrupted: cancelling the context of a call stops
// a function that loops for ever at once, as an interruption (not a
// timeout); the error wraps context.Canceled. (On a loaded machine the
// cancel may come before the loop starts, while the library loads: the
// outcome is the same, so the test does not depend on when it comes.)
func TestLibraryFunctionInterrupted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"lua/text.lua": `local M = {functions = {}}
function M.functions.forever(n)
  while true do n = n + 1 end
end
return M`})
	libs := NewLibraries(dir)
	libs.FunctionTimeout = 30 * time.Second // only the interrupt ends the call
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stop := time.AfterFunc(50*time.Millisecond, cancel)
	defer stop.Stop()
	_, err := libs.Call(ctx, "forever", []json.RawMessage{json.RawMessage("1")})
	se := wantError(t, err, filepath.Join(dir, "lua", "text.lua")+":", ": script stopped: interrupted")
	if !errors.Is(err, context.Canceled) || se.Line == 0 {
		t.Errorf("error %v (line %d) is not an interruption at a line of the library", err, se.Line)
	}
}

// TestLibraryFunctionsNotKeptWhenInterrupted: libraries whose functions
// were being found when the context ended are looked at again by the
// next call, which works.
func TestLibraryFunctionsNotKeptWhenInterrupted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"lua/text.lua": `return {functions = {shout = function(s) return s:upper() end}}`})
	libs := NewLibraries(dir)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := libs.Call(ctx, "shout", []json.RawMessage{json.RawMessage(`"a"`)}); !errors.Is(err, context.Canceled) {
		t.Fatalf("a call under an ended context: %v, want an interruption", err)
	}
	out, err := libs.Call(t.Context(), "shout", []json.RawMessage{json.RawMessage(`"a"`)})
	if err != nil || string(out) != `"A"` {
		t.Fatalf("the next call: %s, %v", out, err)
	}
}

func TestLibraryFunctionsBadDeclarations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string
		err   string
	}{
		{"not a function", map[string]string{"lua/x.lua": `return {functions = {a = 1}}`}, "functions.a is a number, not a function"},
		{"not a table", map[string]string{"lua/x.lua": `return {functions = 1}`}, "functions is a number"},
		{"twice", map[string]string{"lua/x.lua": `return {functions = {a = print}}`, "lua/y.lua": `return {functions = {a = print}}`}, "declares a function of that name too"},
		{"fails to load", map[string]string{"lua/x.lua": "\nerror('no')"}, "x.lua:2: no"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			_, err := NewLibraries(dir).Functions(t.Context())
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("got %v, want an error containing %q", err, tt.err)
			}
		})
	}
	if fns, err := NewLibraries(t.TempDir()).Functions(t.Context()); err != nil || len(fns) != 0 {
		t.Errorf("no lua folder: %v, %v", fns, err)
	}
}
