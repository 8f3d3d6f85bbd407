package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

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
