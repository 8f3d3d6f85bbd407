package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/okru-run/okru-run/lang"
)

const textLibrary = `
local M = {functions = {}}
function M.functions.shout(s) return s:upper() .. "!" end
function M.functions.count(list) return #list end
return M`

// compileWithLibrary compiles src in a folder whose lua/text.lua is lib.
func compileWithLibrary(t *testing.T, src, lib string) (*Workflow, string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "lua"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "lua", "text.lua"), []byte(lib), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := lang.LoadSource("test.hcl", []byte(src), dir)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	w, diags := Compile(cfg)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return w, dir
}

// TestPlanCallsLuaFunctions: plan calls lua:: functions on what is known
// and leaves the rest known after the step it waits for.
func TestPlanCallsLuaFunctions(t *testing.T) {
	t.Parallel()
	w, _ := compileWithLibrary(t, testSession+`
call "members" {
  method = "group.getMembers"
  params = { uid = lua::shout("g"), count = 10 }
}
output "n" { value = lua::count(call.members.result.members) }
output "secret" {
  value     = lua::shout(env("OKRU_ACCESS_TOKEN"))
  sensitive = true
}
`, textLibrary)
	p, diags := w.Plan(t.Context(), Inputs{Getenv: func(string) string { return "tok" }})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if got := lang.FormatValue(p.Steps[0].Instances[0].Params.GetAttr("uid"), 0); got != `"G!"` {
		t.Errorf("uid = %s", got)
	}
	for _, o := range p.Outputs {
		switch o.Name {
		case "n":
			if got := lang.FormatValue(o.Value, 0); got != "(known after call.members)" {
				t.Errorf("n = %s", got)
			}
		case "secret":
			if !lang.IsSensitive(o.Value) {
				t.Errorf("a lua:: function of a secret gives a value that is not sensitive")
			}
		}
	}
}

// TestFingerprintCoversLibraries: a resume after a library changed is
// another run.
func TestFingerprintCoversLibraries(t *testing.T) {
	t.Parallel()
	src := testSession + `output "x" { value = lua::shout("a") }`
	w1, _ := compileWithLibrary(t, src, textLibrary)
	w2, _ := compileWithLibrary(t, src, textLibrary)
	w3, _ := compileWithLibrary(t, src, strings.Replace(textLibrary, `"!"`, `"?"`, 1))
	in := Inputs{Variables: map[string]cty.Value{}}
	h1 := w1.fingerprint(in, Shard{}, "wf", "")
	if h2 := w2.fingerprint(in, Shard{}, "wf", ""); h1.Files != h2.Files {
		t.Errorf("the same workflow and library in another folder give another fingerprint")
	}
	if h3 := w3.fingerprint(in, Shard{}, "wf", ""); h1.Files == h3.Files {
		t.Errorf("a changed library gives the same fingerprint")
	}
}

// spinLibrary has a function that loops for ever.
const spinLibrary = `
local M = {functions = {}}
function M.functions.spin(x)
  local n = 0
  while true do n = n + 1 end
end
function M.functions.shout(s) return s:upper() .. "!" end
return M`

// slowBound raises the time bound of w's lua:: calls far beyond what a
// test waits: only an interrupt can end a call of spin.
func slowBound(w *Workflow) { w.libs.FunctionTimeout = time.Minute }

// interruptedCall checks the diagnostic of a lua:: call the context
// stopped, if there is one: it says so at the line of src (test.hcl) that
// holds call.
func interruptedCall(t *testing.T, diags hcl.Diagnostics, src, call string) {
	t.Helper()
	line := 1 + strings.Count(src[:strings.Index(src, call)], "\n")
	for _, d := range diags {
		call, ok := hcl.DiagnosticExtra[hclsyntax.FunctionCallDiagExtra](d)
		if !ok || call.CalledFunctionName() != "lua::spin" {
			continue
		}
		if !errors.Is(call.FunctionCallError(), context.Canceled) || !strings.Contains(d.Detail, "interrupted") {
			t.Errorf("lua::spin failed, not interrupted: %s", d.Detail)
		}
		if d.Subject == nil || d.Subject.Filename != "test.hcl" || d.Subject.Start.Line != line {
			t.Errorf("lua::spin interrupted at %v, want test.hcl:%d", d.Subject, line)
		}
		return
	}
	// A loaded machine may come to the call after the cancel: plan then
	// stops before it, which is as good.
	t.Logf("lua::spin was not called before the cancel: %v", diags)
}

// TestPlanInterruptsLuaFunction: cancelling a plan's context stops a
// lua:: function that loops for ever, in a local, in a step's params or
// in Secrets; plan ends as interrupted, well before the function's bound.
func TestPlanInterruptsLuaFunction(t *testing.T) {
	t.Parallel()
	src := testSession + `
locals { spun = lua::spin(1) }
call "info" {
  method = "users.getInfo"
  params = { uids = lua::spin(2), fields = "name" }
}
`
	w, _ := compileWithLibrary(t, src, spinLibrary)
	slowBound(w)
	t.Run("plan", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		stop := time.AfterFunc(50*time.Millisecond, cancel)
		defer stop.Stop()
		_, diags := w.Plan(ctx, Inputs{})
		interruptedCall(t, diags, src, "lua::spin(1)")
		said := false
		for _, d := range diags {
			said = said || d.Detail == "Planning was interrupted."
		}
		if !said {
			t.Errorf("plan does not say it was interrupted: %v", diags)
		}
	})
	t.Run("params", func(t *testing.T) {
		t.Parallel()
		// Without the local, whose call plan meets first.
		src := testSession + `
call "info" {
  method = "users.getInfo"
  params = { uids = lua::spin(2), fields = "name" }
}
`
		w, _ := compileWithLibrary(t, src, spinLibrary)
		slowBound(w)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		stop := time.AfterFunc(50*time.Millisecond, cancel)
		defer stop.Stop()
		_, diags := w.Plan(ctx, Inputs{})
		interruptedCall(t, diags, src, "lua::spin(2)")
	})
	t.Run("secrets", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		stop := time.AfterFunc(50*time.Millisecond, cancel)
		defer stop.Stop()
		begin := time.Now()
		w.Secrets(ctx, Inputs{})
		// Generous: the bound is a minute, and a cancelled call ends in
		// milliseconds.
		if took := time.Since(begin); took > 30*time.Second {
			t.Errorf("Secrets took %s: the interrupt did not stop lua::spin", took)
		}
	})
}

// TestRunStopInterruptsLuaFunction: the first signal (Options.Stop) stops
// a lua:: function running between the calls, as it stops a script, in a
// local, an output, a check or a step's params: the run ends as
// interrupted, with nothing failed. A try() around a stopped call does not
// fall back, so no call is made with the fallback.
func TestRunStopInterruptsLuaFunction(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"local":  `locals { spun = lua::spin(call.first.result) }` + "\n" + `output "spun" { value = local.spun }`,
		"output": `output "spun" { value = lua::spin(call.first.result) }`,
		"check": `check "spins" {
  assert {
    condition     = lua::spin(call.first.result) == 1
    error_message = "no"
  }
}`,
		"params in try": `call "second" {
  method = "users.getInfo"
  params = { uids = try(lua::spin(call.first.result), "fallback"), fields = "name" }
}`,
	}
	for name, tail := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newAPIServer(t, func(method string, form map[string]string) (any, int) {
				return []map[string]any{{"uid": form["uids"]}}, 0
			})
			w, _ := compileWithLibrary(t, testSession+`
call "first" {
  method = "users.getInfo"
  params = { uids = lua::shout("a"), fields = "name" }
}
`+tail, spinLibrary)
			slowBound(w)
			stop := make(chan struct{})
			var once sync.Once
			var mu sync.Mutex
			var events []Event
			obs := ObserverFunc(func(e Event) {
				mu.Lock()
				events = append(events, e)
				mu.Unlock()
				if e.Type == EventFinished && e.Step.Name == "first" {
					// The signal, once lua::spin runs.
					once.Do(func() { time.AfterFunc(50*time.Millisecond, func() { close(stop) }) })
				}
			})
			res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), Observer: obs, Stop: stop})
			if res.Status != StatusInterrupted || res.Failures != 0 || diags.HasErrors() {
				t.Fatalf("status %v, %d failures: %v", res.Status, res.Failures, diags)
			}
			if calls := srv.Calls(); len(calls) != 1 || calls[0].Form["uids"] != "A!" {
				t.Errorf("calls %v, want only call.first", calls)
			}
			if len(res.Outputs) != 0 {
				t.Errorf("outputs %v", res.Outputs)
			}
			if name == "check" && (len(res.Checks) != 1 || !res.Checks[0].Skipped) {
				t.Errorf("checks %+v, want check.spins skipped", res.Checks)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, e := range events {
				if e.Type == EventFailed {
					t.Errorf("failed: %+v", e)
				}
				if e.Step.Name == "second" && e.Type == EventSkipped && e.Reason != "interrupted" {
					t.Errorf("call.second skipped: %s", e.Reason)
				}
			}
		})
	}
}
