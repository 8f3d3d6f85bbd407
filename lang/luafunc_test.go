package lang

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/okru-run/okru-run/lang/lua"
)

// luaLibraries returns the Lua libraries of a temporary folder whose
// lua/text.lua is src.
func luaLibraries(t *testing.T, src string) *lua.Libraries {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "lua"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "lua", "text.lua"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return lua.NewLibraries(dir)
}

const spinLibrary = `local M = {functions = {}}
function M.functions.shout(s) return s:upper() .. "!" end
function M.functions.spin(n)
  while true do n = n + 1 end
end
return M`

// evalLua evaluates src, an expression on line 2 of main.hcl, with the
// functions of scope and a variable unknown of unknown value.
func evalLua(t *testing.T, scope Scope, src string) (cty.Value, hcl.Diagnostics) {
	t.Helper()
	expr, diags := hclsyntax.ParseExpression([]byte(src), "main.hcl", hcl.Pos{Line: 2, Column: 1, Byte: 0})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return expr.Value(&hcl.EvalContext{Variables: map[string]cty.Value{"unknown": cty.DynamicVal}, Functions: scope.Functions()})
}

// TestLuaFunctionInterrupted: cancelling the scope's context stops a lua::
// function that loops for ever at once, through the real interpreter, with
// a diagnostic at the call site that says it was interrupted, not that it
// ran out of time; the error wraps context.Canceled. The function's time
// bound is raised so far that only the interrupt can end the call: nothing
// here depends on how fast the machine is.
func TestLuaFunctionInterrupted(t *testing.T) {
	t.Parallel()
	libs := luaLibraries(t, spinLibrary)
	libs.FunctionTimeout = 30 * time.Second
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stop := time.AfterFunc(50*time.Millisecond, cancel) // the signal, while Lua loops
	defer stop.Stop()
	_, diags := evalLua(t, Scope{Lua: libs, Context: ctx}, `{ n = lua::spin(1) }`)
	if len(diags) != 1 || !diags.HasErrors() {
		t.Fatalf("diagnostics: %v", diags)
	}
	if !Interrupted(ctx, diags) {
		t.Errorf("Interrupted is false for %v", diags)
	}
	d := diags[0]
	if d.Subject == nil || d.Subject.Filename != "main.hcl" || d.Subject.Start.Line != 2 || d.Subject.Start.Column != 7 {
		t.Errorf("subject %v, want the call at main.hcl:2,7", d.Subject)
	}
	if !strings.Contains(d.Detail, `"lua::spin"`) || !strings.Contains(d.Detail, "interrupted") || strings.Contains(d.Detail, "timeout") {
		t.Errorf("detail %q does not say lua::spin was interrupted", d.Detail)
	}
	extra, ok := hcl.DiagnosticExtra[hclsyntax.FunctionCallDiagExtra](d)
	if !ok {
		t.Fatalf("the diagnostic has no function call error: %#v", d.Extra)
	}
	if err := extra.FunctionCallError(); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v does not wrap context.Canceled", err)
	}
	// Lua names the line where it was stopped: the loop, or the library's
	// loading. (On a loaded machine the cancel may even come before the
	// call starts, which then does not start Lua.)
	if se, ok := errors.AsType[*lua.ScriptError](extra.FunctionCallError()); ok {
		if !strings.HasSuffix(se.File, filepath.Join("lua", "text.lua")) || se.Line == 0 {
			t.Errorf("error %#v does not name a line of lua/text.lua", se)
		}
		if !strings.Contains(d.Detail, "script stopped: interrupted") {
			t.Errorf("detail %q", d.Detail)
		}
	}
}

// TestLuaFunctionContext: a scope without a context calls as before, and
// one whose context has ended fails every call, but a call it did not
// stop gives what it always gives: the context changes whether a value
// comes, never which.
func TestLuaFunctionContext(t *testing.T) {
	t.Parallel()
	libs := luaLibraries(t, spinLibrary)
	v, diags := evalLua(t, Scope{Lua: libs}, `lua::shout("a")`)
	if diags.HasErrors() || v != cty.StringVal("A!") {
		t.Fatalf("no context: %#v, %v", v, diags)
	}
	v, diags = evalLua(t, Scope{Lua: libs, Context: t.Context()}, `lua::shout("a")`)
	if diags.HasErrors() || v != cty.StringVal("A!") {
		t.Fatalf("live context: %#v, %v", v, diags)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, diags = evalLua(t, Scope{Lua: libs, Context: ctx}, `lua::shout("a")`)
	if !diags.HasErrors() || !strings.Contains(diags[0].Detail, `"lua::shout" failed: interrupted before the call: context canceled`) {
		t.Fatalf("cancelled context: %v", diags)
	}
	// An unknown argument calls nothing, so there is nothing to stop.
	if _, d := evalLua(t, Scope{Lua: libs, Context: ctx}, `lua::shout(nothing)`); Interrupted(ctx, d) {
		t.Errorf("an unknown variable counts as an interruption: %v", d)
	}
	v, diags = evalLua(t, Scope{Lua: libs, Context: ctx}, `lua::shout(unknown)`)
	if diags.HasErrors() || v.IsKnown() {
		t.Errorf("unknown argument: %#v, %v", v, diags)
	}
}

// TestTryDoesNotCatchInterrupts: try and can do not turn a lua:: call that
// the context stopped into their fallback or false, which would be a value
// the workflow does not have; without a lua:: call they work as ever.
func TestTryDoesNotCatchInterrupts(t *testing.T) {
	t.Parallel()
	libs := luaLibraries(t, spinLibrary)
	libs.FunctionTimeout = 30 * time.Second // only the interrupt ends a call
	for _, src := range []string{`try(lua::spin(1), "fallback")`, `can(lua::spin(1))`, `try(upper(lua::spin(1)), "fallback")`} {
		t.Run(src, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			stop := time.AfterFunc(50*time.Millisecond, cancel)
			defer stop.Stop()
			v, diags := evalLua(t, Scope{Lua: libs, Context: ctx}, src)
			if !diags.HasErrors() {
				t.Fatalf("got %#v, want an error", v)
			}
			if !strings.Contains(diags[0].Detail, "interrupted") {
				t.Errorf("detail %q does not say it was interrupted", diags[0].Detail)
			}
			extra, ok := hcl.DiagnosticExtra[hclsyntax.FunctionCallDiagExtra](diags[0])
			if !ok || !errors.Is(extra.FunctionCallError(), context.Canceled) {
				t.Errorf("the error does not wrap context.Canceled: %v", diags)
			}
		})
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for src, want := range map[string]cty.Value{
		`try(unknown.x, "fallback")`: cty.DynamicVal, // as without a context
		`try(nothing, "fallback")`:   cty.StringVal("fallback"),
		`can(nothing)`:               cty.False,
		`can(upper("a"))`:            cty.True,
	} {
		v, diags := evalLua(t, Scope{Lua: libs, Context: ctx}, src)
		if diags.HasErrors() || !v.RawEquals(want) {
			t.Errorf("%s under an ended context: %#v, %v; want %#v", src, v, diags, want)
		}
	}
	v, diags := evalLua(t, Scope{Lua: libs, Context: t.Context()}, `try(lua::shout("a"), "fallback")`)
	if diags.HasErrors() || v != cty.StringVal("A!") {
		t.Errorf("try of a lua:: call under a live context: %#v, %v", v, diags)
	}
}
