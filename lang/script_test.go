package lang

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func TestLoadScriptBlocks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "report.lua"), []byte("return input\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "lua"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg, diags := LoadSource("wf.hcl", []byte(`
session "main" {}
call "me" {
  method = "users.getCurrentUser"
}
script "report" {
  file    = "report.lua"
  input   = { me = call.me.result.uid }
  session = "main"
  timeout = "5s"
  retry {
    attempts = 3
  }
}
script "inline" {
  depends_on = [script.report]
  for_each   = script.report.result
  input      = each.value
  source     = <<-EOT
    return input
  EOT
}
output "x" { value = script.inline[*].result }
`), dir)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	report := cfg.Step(Address{Kind: KindScript, Name: "report"})
	if report == nil || report.Kind != StepScript || report.Method() != ScriptMethod {
		t.Fatalf("script.report = %+v", report)
	}
	s := report.Script
	if s.File != "report.lua" || s.Name != filepath.Join(dir, "report.lua") || string(s.Source) != "return input\n" ||
		s.Session != "main" || report.Timeout.String() != "5s" || report.Retry == nil || report.Retry.Attempts != 3 {
		t.Errorf("script.report = %+v, %+v", report, s)
	}
	if len(report.Refs) != 1 || report.Refs[0].Addr.String() != "call.me" {
		t.Errorf("refs of script.report = %v", report.Refs)
	}
	if cfg.Files()[s.Name] == nil {
		t.Error("the .lua file is not kept for diagnostics")
	}
	inline := cfg.Step(Address{Kind: KindScript, Name: "inline"}).Script
	if inline.Name != "script.inline" || string(inline.Source) != "return input\n" || inline.File != "" {
		t.Errorf("script.inline = %+v", inline)
	}
	if got := inline.Range(1, 8); got.Start.Line != 20 || got.Start.Column != 12 || got.Filename != "wf.hcl" {
		t.Errorf("line 1 column 8 of the heredoc is at %s, want wf.hcl:20,12", got)
	}
}

func TestScriptBlockErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(filepath.Dir(dir), filepath.Base(dir)+"-outside.lua"), []byte("return 1"), 0o644); err != nil {
		t.Fatal(err)
	}
	outside := "../" + filepath.Base(dir) + "-outside.lua"
	tests := []struct{ name, src, want string }{
		{"neither", `script "s" {}`, "script.s needs its Lua code"},
		{"both", `script "s" {
  file   = "a.lua"
  source = "return 1"
}`, "sets both file and source"},
		{"missing file", `script "s" { file = "nope.lua" }`, "nope.lua: no such file"},
		{"outside the folder", `script "s" { file = "` + outside + `" }`, "may not leave it"},
		{"absolute", `script "s" { file = "/etc/passwd" }`, "is absolute"},
		{"a folder", `script "s" { file = "." }`, "it is a folder"},
		{"interpolation", `script "s" { source = "return ${var.x}" }`, "may not refer to anything"},
		{"unknown attribute", `script "s" {
  source = "return 1"
  params = {}
}`, `An argument named "params" is not expected here`},
		{"unknown step", `output "x" { value = script.nope.result }`, `No script "nope" is declared`},
		{"bad attribute", `script "s" { source = "return 1" }
output "x" { value = script.s.value }`, `script.s has no attribute "value"; its value is script.s.result`},
		{"for_each attribute", `script "s" {
  for_each = [1]
  source   = "return 1"
}
output "x" { value = script.s.result }`, "script.s uses for_each, so it holds one result per instance"},
		{"depends_on a local", `locals { a = 1 }
script "s" {
  depends_on = [local.a]
  source     = "return 1"
}`, "depends_on may list only steps (call.NAME, script.NAME or upload.NAME)"},
		{"session in a variable", `variable "x" {}
script "s" {
  session = var.x
  source  = "return 1"
}`, "session must be a literal string"},
		{"duplicate", `script "s" { source = "return 1" }
script "s" { source = "return 2" }`, "script.s is already declared"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, diags := LoadSource("wf.hcl", []byte(tt.src), dir)
			if !diags.HasErrors() || !strings.Contains(diags.Error(), tt.want) {
				t.Errorf("diagnostics = %v, want %q", diags, tt.want)
			}
		})
	}
}

func TestLoadScriptRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := filepath.Join(dir, "01 friends.lua")
	config := filepath.Join(dir, "config.hcl")
	files := map[string]string{
		script: "return args",
		config: `
variable "token" {
  type      = string
  sensitive = true
}
session "main" {
  app_key      = "k"
  access_token = var.token
}
call "ignored" {
  method = "users.getCurrentUser"
}
output "ignored" { value = 1 }
`,
	}
	for name, src := range files {
		if err := os.WriteFile(name, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("config", func(t *testing.T) {
		t.Parallel()
		cfg, diags := LoadScriptRun(ScriptRun{Path: script, Args: []string{"a"}, Config: config, EnvSession: true})
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		if len(diags) != 2 || !strings.Contains(diags[0].Detail, "this call block is not run") || !strings.Contains(diags[1].Detail, "this output block is not run") {
			t.Errorf("warnings = %v, want one for the call and one for the output", diags)
		}
		if len(cfg.Sessions) != 1 || cfg.Sessions[0].Name != "main" || len(cfg.Variables) != 1 {
			t.Errorf("sessions %v, variables %v; want the config's", cfg.Sessions, cfg.Variables)
		}
		if len(cfg.Steps) != 1 || len(cfg.Outputs) != 1 {
			t.Fatalf("%d steps, %d outputs; want the script and its result", len(cfg.Steps), len(cfg.Outputs))
		}
		st := cfg.Steps[0]
		if st.Addr.String() != "script._01_friends" || st.Script.Name != script || st.Script.Args[0] != "a" {
			t.Errorf("step = %+v, script %+v", st, st.Script)
		}
		if out := cfg.Outputs[0]; out.Name != "result" || len(out.Refs) != 1 || out.Refs[0].Addr != st.Addr {
			t.Errorf("output = %+v", out)
		}
		if cfg.Dir != dir {
			t.Errorf("dir = %q, want the config's folder", cfg.Dir)
		}
	})
	t.Run("environment", func(t *testing.T) {
		t.Parallel()
		cfg, diags := LoadScriptRun(ScriptRun{Path: script, EnvSession: true})
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		s := cfg.Session(EnvSessionName)
		if s == nil || len(s.Attrs) != 8 || s.DeclRange.Filename != EnvSessionFile {
			t.Fatalf("session = %+v", s)
		}
		for _, a := range s.Refs {
			t.Errorf("the environment's session refers to %s", a.Addr)
		}
	})
	t.Run("no session", func(t *testing.T) {
		t.Parallel()
		cfg, diags := LoadScriptRun(ScriptRun{Path: script})
		if diags.HasErrors() || len(cfg.Sessions) != 0 {
			t.Fatalf("sessions %v, diagnostics %v", cfg.Sessions, diags)
		}
	})
	t.Run("missing script", func(t *testing.T) {
		t.Parallel()
		_, diags := LoadScriptRun(ScriptRun{Path: filepath.Join(dir, "nope.lua")})
		if !diags.HasErrors() || !strings.Contains(diags.Error(), "nope.lua: no such file") {
			t.Errorf("diagnostics = %v", diags)
		}
	})
	t.Run("missing config", func(t *testing.T) {
		t.Parallel()
		_, diags := LoadScriptRun(ScriptRun{Path: script, Config: filepath.Join(dir, "nope.hcl")})
		if !diags.HasErrors() || !strings.Contains(diags.Error(), "Cannot read the workflow") {
			t.Errorf("diagnostics = %v", diags)
		}
	})
}

func TestScriptStepName(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"report.lua":               "report",
		"dir/friends-of-fr.lua":    "friends-of-fr",
		"01-top.lua":               "_01-top",
		"my report (2).lua":        "my_report__2_",
		"отчёт.lua":                "__________",
		filepath.Join("a", ".lua"): "_",
	}
	for path, want := range tests {
		if got := scriptStepName(path); got != want {
			t.Errorf("scriptStepName(%q) = %q, want %q", path, got, want)
		}
		if !isIdentifier(scriptStepName(path)) {
			t.Errorf("scriptStepName(%q) is not a name", path)
		}
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	big, err := cty.ParseNumberVal("12345678901234567890")
	if err != nil {
		t.Fatal(err)
	}
	v := cty.ObjectVal(map[string]cty.Value{
		"id":     big,
		"pi":     cty.NumberFloatVal(3.25),
		"list":   cty.TupleVal([]cty.Value{cty.StringVal("a"), cty.NullVal(cty.String)}),
		"empty":  cty.EmptyObjectVal,
		"none":   cty.EmptyTupleVal,
		"secret": Sensitive(cty.StringVal("s")),
	})
	got, err := JSON(v)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"empty":{},"id":12345678901234567890,"list":["a",null],"none":[],"pi":3.25,"secret":"s"}`; string(got) != want {
		t.Errorf("JSON = %s, want %s", got, want)
	}
	if _, err := JSON(cty.ObjectVal(map[string]cty.Value{"x": cty.UnknownVal(cty.String)})); err == nil {
		t.Error("an unknown value became JSON")
	}
}
