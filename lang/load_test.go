package lang

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func TestLoadFolderAndJSON(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := map[string]string{
		"a.hcl":      "variable \"n\" {\n  type    = number\n  default = 2\n}\nsession \"main\" {}\n",
		"b.hcl.json": `{"call": {"me": {"method": "users.getInfo", "params": {"uids": "${var.n}"}}}}`,
		"notes.txt":  "ignored",
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, diags := Load(dir)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if len(cfg.Variables) != 1 || len(cfg.Sessions) != 1 || len(cfg.Steps) != 1 {
		t.Fatalf("loaded %d variables, %d sessions, %d steps", len(cfg.Variables), len(cfg.Sessions), len(cfg.Steps))
	}
	st := cfg.Steps[0]
	if st.Call.Method != "users.getInfo" || len(st.Refs) != 1 || st.Refs[0].Addr.String() != "var.n" {
		t.Errorf("step = %+v, refs %v", st.Call, st.Refs)
	}
	if _, diags := Load(filepath.Join(dir, "missing")); !diags.HasErrors() {
		t.Error("a missing path loaded")
	}
	empty := t.TempDir()
	if _, diags := Load(empty); !diags.HasErrors() || !strings.Contains(diags.Error(), "No workflow files") {
		t.Errorf("empty folder: %v", diags)
	}
}

func TestResolveVariables(t *testing.T) {
	t.Parallel()
	cfg, diags := LoadSource("v.hcl", []byte(`
variable "name" { type = string }
variable "ids" {
  type    = list(number)
  default = [1]
}
variable "opts" {
  type    = object({ a = string, b = optional(number, 7) })
  default = { a = "x" }
}
variable "secret" {
  type      = string
  default   = "d"
  sensitive = true
}
`), t.TempDir())
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	file := filepath.Join(t.TempDir(), "vals.hcl")
	if err := os.WriteFile(file, []byte("name = \"file\"\nids = [5, 6]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"OKRU_VAR_name": "env", "OKRU_VAR_ids": "[9]", "OKRU_VAR_secret": "from-env"}
	vals, diags := cfg.ResolveVariables(Inputs{
		Getenv:   func(k string) string { return env[k] },
		VarFiles: []string{file},
		Vars:     []string{"name=flag"},
	}, Scope{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if got := vals["name"].AsString(); got != "flag" {
		t.Errorf("name = %s, want the -var value", got)
	}
	if got := string(DisplayJSON(vals["ids"])); got != "[5,6]" {
		t.Errorf("ids = %s, want the file's value over the environment's", got)
	}
	if got := vals["opts"].GetAttr("b"); !got.RawEquals(cty.NumberIntVal(7)) {
		t.Errorf("opts.b = %#v, want the optional default 7", got)
	}
	if !IsSensitive(vals["secret"]) || string(DisplayJSON(vals["secret"])) != `"(sensitive)"` {
		t.Errorf("secret = %#v, want it marked sensitive", vals["secret"])
	}
	if _, diags := cfg.ResolveVariables(Inputs{}, Scope{}); !diags.HasErrors() || !strings.Contains(diags.Error(), "OKRU_VAR_name") {
		t.Errorf("missing required variable: %v", diags)
	}
}

func TestFormatAndDiff(t *testing.T) {
	t.Parallel()
	src := []byte("call \"x\" {\nmethod=\"a.b\"\n}\n")
	out, diags := Format("x.hcl", src)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if string(out) != "call \"x\" {\n  method = \"a.b\"\n}\n" {
		t.Errorf("Format = %q", out)
	}
	want := "--- a\n+++ b\n@@ -1,3 +1,3 @@\n call \"x\" {\n-method=\"a.b\"\n+  method = \"a.b\"\n }\n"
	if got := UnifiedDiff("a", "b", src, out); got != want {
		t.Errorf("diff =\n%s\nwant\n%s", got, want)
	}
	if UnifiedDiff("a", "b", out, out) != "" {
		t.Error("equal inputs gave a diff")
	}
	if _, diags := Format("bad.hcl", []byte("call {")); !diags.HasErrors() {
		t.Error("a syntax error was formatted")
	}
}

func TestResolveVariablesBadRawValue(t *testing.T) {
	t.Parallel()
	cfg, diags := LoadSource("v.hcl", []byte(`
variable "pin" { type = number }
variable "code" {
  type      = number
  sensitive = true
}
`), t.TempDir())
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	_, diags = cfg.ResolveVariables(Inputs{Vars: []string{"pin=abc", "code=s3cr3t"}}, Scope{})
	var got string
	for _, d := range diags {
		got += d.Summary + ": " + d.Detail + "\n"
	}
	if !strings.Contains(got, `var.pin needs a number; got "abc"`) || strings.Contains(got, "Variables not allowed") {
		t.Errorf("diags = %s, want var.pin needs a number", got)
	}
	if !strings.Contains(got, "var.code needs a number") || strings.Contains(got, "s3cr3t") {
		t.Errorf("diags = %s, want var.code needs a number without its value", got)
	}
}
