package lang

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

const moduleOK = `
session "main" {}
variable "gid" { type = string }
variable "count_of" {
  type    = number
  default = 1
}
call "post" {
  method = "mediatopic.post"
  params = { gid = var.gid }
}
output "topic_id" { value = call.post.result }
`

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, src := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestModuleDiagnostics loads bad module blocks: each is refused with a
// diagnostic at the line that is wrong, in the caller's or the module's
// file, whose source is kept for the snippet.
func TestModuleDiagnostics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		main    string
		extra   map[string]string
		setup   func(t *testing.T, dir string)
		summary string
		detail  string
		file    string // the diagnostic's file, relative to the workflow
		line    int
	}{
		{name: "missing folder", main: `module "m" {
  source = "./modules/nosuch"
}`, summary: "Module not found", detail: "does not exist", file: "main.hcl", line: 2},
		{name: "remote source", main: `module "m" {
  source = "github.com/someone/module"
}`, summary: "Unsupported module source", detail: "vendor", file: "main.hcl", line: 2},
		{name: "leaves the tree", main: `module "m" {
  source = "../outside"
}`, setup: func(t *testing.T, dir string) {
			writeFiles(t, filepath.Dir(dir), map[string]string{"outside/main.hcl": moduleOK})
		}, summary: "Module outside the workflow", detail: "copy (vendor) the module", file: "main.hcl", line: 2},
		{name: "symlink out of the tree", main: `module "m" {
  source = "./modules/link"
}`, setup: func(t *testing.T, dir string) {
			out := t.TempDir()
			writeFiles(t, out, map[string]string{"main.hcl": moduleOK})
			if err := os.MkdirAll(filepath.Join(dir, "modules"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(out, filepath.Join(dir, "modules", "link")); err != nil {
				t.Fatal(err)
			}
		}, summary: "Module outside the workflow", detail: "symbolic link", file: "main.hcl", line: 2},
		{name: "itself", main: `module "m" {
  source = "./"
}`, summary: "Recursive module", detail: "the workflow → module.m", file: "main.hcl", line: 2},
		{name: "through another", main: `module "a" {
  source = "./a"
  gid    = "1"
}`, extra: map[string]string{"a/main.hcl": `variable "gid" { type = string }
module "b" {
  source = "./b"
}`, "a/b/main.hcl": `module "again" {
  source = "../"
  gid    = "2"
}`}, summary: "Recursive module", detail: "module.a → module.b → module.again", file: "a/b/main.hcl", line: 2},
		{name: "missing input", main: `module "m" {
  source = "./m"
}`, extra: map[string]string{"m/main.hcl": moduleOK}, summary: "Missing required input", detail: "module.m must set gid", file: "main.hcl", line: 1},
		{name: "unknown input", main: `module "m" {
  source = "./m"
  gid    = "1"
  gdi    = "2"
}`, extra: map[string]string{"m/main.hcl": moduleOK}, summary: "Unsupported input", detail: `no variable "gdi"`, file: "main.hcl", line: 4},
		{name: "wrong type", main: `module "m" {
  source   = "./m"
  gid      = "1"
  count_of = "many"
}`, extra: map[string]string{"m/main.hcl": moduleOK}, summary: "Invalid value for input", detail: "var.count_of", file: "main.hcl", line: 4},
		{name: "no such output", main: `module "m" {
  source = "./m"
  gid    = "1"
}
output "x" {
  value = module.m.topic
}`, extra: map[string]string{"m/main.hcl": moduleOK}, summary: "Unsupported attribute", detail: "Did you mean topic_id?", file: "main.hcl", line: 6},
		{name: "output of a for_each module", main: `module "m" {
  source   = "./m"
  for_each = toset(["1"])
  gid      = each.key
}
output "x" {
  value = module.m.topic_id
}`, extra: map[string]string{"m/main.hcl": moduleOK}, summary: "Invalid reference", detail: "module.m[KEY].OUTPUT", file: "main.hcl", line: 7},
		{name: "two with one name", main: `module "m" {
  source = "./m"
  gid    = "1"
}
module "m" {
  source = "./m"
  gid    = "2"
}`, extra: map[string]string{"m/main.hcl": moduleOK}, summary: "Duplicate module", detail: "module.m is already declared", file: "main.hcl", line: 5},
		{name: "count", main: `module "m" {
  source = "./m"
  gid    = "1"
  count  = 3
}`, extra: map[string]string{"m/main.hcl": moduleOK}, summary: "Unsupported argument", detail: "for_each = range(3)", file: "main.hcl", line: 4},
		{name: "each without for_each", main: `module "m" {
  source = "./m"
  gid    = each.key
}`, extra: map[string]string{"m/main.hcl": moduleOK}, summary: "Invalid reference", detail: "only when it has a for_each", file: "main.hcl", line: 3},
		{name: "unknown session", main: `session "admin" {}
module "m" {
  source   = "./m"
  gid      = "1"
  sessions = { main = "admni" }
}`, extra: map[string]string{"m/main.hcl": moduleOK}, summary: "Invalid sessions", detail: `no such session`, file: "main.hcl", line: 5},
		{name: "error inside the module", main: `module "m" {
  source = "./m"
}`, extra: map[string]string{"m/main.hcl": `call "x" {
  method = "users.getInfo"
  params = { uids = var.nosuch }
}`}, summary: "Reference to undeclared variable", detail: `"nosuch"`, file: "m/main.hcl", line: 3},
		{name: "depends on itself", main: `module "m" {
  source     = "./m"
  gid        = "1"
  depends_on = [module.m]
}`, extra: map[string]string{"m/main.hcl": moduleOK}, summary: "Invalid depends_on", detail: "cannot depend on itself", file: "main.hcl", line: 4},
		{name: "empty folder", main: `module "m" {
  source = "./m"
}`, setup: func(t *testing.T, dir string) {
			if err := os.MkdirAll(filepath.Join(dir, "m"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, summary: "Empty module", detail: "no .hcl", file: "main.hcl", line: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "wf")
			files := map[string]string{"main.hcl": tt.main}
			for k, v := range tt.extra {
				files[k] = v
			}
			writeFiles(t, dir, files)
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			cfg, diags := Load(dir)
			for _, d := range diags {
				if d.Summary != tt.summary || !strings.Contains(d.Detail, tt.detail) {
					continue
				}
				if d.Subject == nil {
					t.Fatalf("%s: no position", d.Summary)
				}
				want := filepath.Join(dir, filepath.FromSlash(tt.file))
				if d.Subject.Filename != want || d.Subject.Start.Line != tt.line {
					t.Errorf("at %s:%d, want %s:%d", d.Subject.Filename, d.Subject.Start.Line, want, tt.line)
				}
				if cfg.Files()[d.Subject.Filename] == nil {
					t.Errorf("%s is not kept for the snippet", d.Subject.Filename)
				}
				return
			}
			t.Errorf("no %q diagnostic with %q in:\n%s", tt.summary, tt.detail, diags.Error())
		})
	}
}

// TestModuleLoadedOnce loads a module two blocks use from one folder once,
// and keeps its files for diagnostics.
func TestModuleLoadedOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"main.hcl": `
module "a" {
  source = "./m"
  gid    = "1"
}
module "b" {
  source = "./m/"
  gid    = "2"
}
output "both" { value = [module.a.topic_id, module.b.topic_id] }
`, "m/main.hcl": moduleOK})
	cfg, diags := Load(dir)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	a, b := cfg.Module("a"), cfg.Module("b")
	if a.Config == nil || a.Config != b.Config {
		t.Error("one folder was loaded twice")
	}
	if len(cfg.Outputs[0].Refs) != 2 || cfg.Outputs[0].Refs[0].Addr != (Address{Kind: KindModule, Name: "a"}) {
		t.Errorf("refs %v", cfg.Outputs[0].Refs)
	}
	if cfg.Files()[filepath.Join(dir, "m", "main.hcl")] == nil {
		t.Error("the module's file is not kept")
	}
}

// TestExpectFailuresInModules reads expect_failures addresses that go
// into modules, and matches them against the addresses of failed steps.
func TestExpectFailuresInModules(t *testing.T) {
	t.Parallel()
	failed := Address{Kind: KindUpload, Name: "photos", Module: `module.post["1"]`}
	nested := Address{Kind: KindCall, Name: "get", Module: `module.post["1"].module.read`}
	tests := []struct {
		expr   string
		want   string
		covers []Address
		misses []Address
	}{
		{`upload.photos`, "upload.photos", []Address{{Kind: KindUpload, Name: "photos"}}, []Address{failed}},
		{`module.post`, "module.post", []Address{failed, nested}, []Address{{Kind: KindCall, Name: "post"}, {Kind: KindCall, Name: "x", Module: "module.poster"}}},
		{`module.post["1"]`, `module.post["1"]`, []Address{failed, nested}, []Address{{Kind: KindCall, Name: "x", Module: `module.post["10"]`}}},
		{`module.post["1"].upload.photos`, `module.post["1"].upload.photos`, []Address{failed}, []Address{nested}},
		{`module.post["1"].module.read`, `module.post["1"].module.read`, []Address{nested}, []Address{failed}},
		{`module.post[0].call.post`, `module.post[0].call.post`, []Address{{Kind: KindCall, Name: "post", Module: "module.post[0]"}}, nil},
	}
	for _, tt := range tests {
		expr, diags := hclsyntax.ParseExpression([]byte(tt.expr), "t.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		tr, diags := hcl.AbsTraversalForExpr(expr)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		addr, ok := expectedAddress(tr)
		if !ok || addr.String() != tt.want {
			t.Errorf("%s: %v %v, want %s", tt.expr, addr, ok, tt.want)
			continue
		}
		for _, f := range tt.covers {
			if !addr.Covers(f) {
				t.Errorf("%s does not cover %s", tt.expr, f)
			}
		}
		for _, f := range tt.misses {
			if addr.Covers(f) {
				t.Errorf("%s covers %s", tt.expr, f)
			}
		}
	}
	for _, bad := range []string{`module`, `module.post.nosuch`, `module.post["1"].var.x`, `output.x`} {
		expr, _ := hclsyntax.ParseExpression([]byte(bad), "t.hcl", hcl.InitialPos)
		tr, _ := hcl.AbsTraversalForExpr(expr)
		if _, ok := expectedAddress(tr); ok {
			t.Errorf("%s was accepted", bad)
		}
	}
}
