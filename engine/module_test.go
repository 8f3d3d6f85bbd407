package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/lang"
	"github.com/zclconf/go-cty/cty"
)

// writeTree writes files (by slash path) below a new folder and returns it.
func writeTree(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// loadTree loads and compiles the workflow in dir, failing on errors.
func loadTree(t testing.TB, dir string) *Workflow {
	t.Helper()
	cfg, diags := lang.Load(dir)
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags.Error())
	}
	w, diags := Compile(cfg)
	if diags.HasErrors() {
		t.Fatalf("compile: %s", diags.Error())
	}
	return w
}

// postModule posts text to a group and reads the topic back through a
// module of its own, so modules nest.
var postModule = map[string]string{
	"modules/post/main.hcl": `
session "main" {}
variable "gid" { type = string }
variable "text" {
  type = string
  validation {
    condition     = length(var.text) < 100
    error_message = "text is too long"
  }
}
variable "kind" {
  type    = string
  default = "GROUP_THEME"
}
call "post" {
  method = "mediatopic.post"
  params = { gid = var.gid, type = var.kind, attachment = jsonencode({ media = [{ type = "text", text = var.text }] }) }
}
module "read" {
  source = "./read"
  topic  = call.post.result
}
output "topic_id" { value = call.post.result }
output "read"     { value = module.read.media }
`,
	"modules/post/read/main.hcl": `
session "main" {}
variable "topic" { type = string }
call "get" {
  method = "mediatopic.getByIds"
  params = { topic_ids = var.topic }
}
output "media" { value = call.get.result.media_topics[0].id }
`,
}

func moduleAPI(t *testing.T) *apiServer {
	return newAPIServer(t, func(method string, form map[string]string) (any, int) {
		switch method {
		case "users.getCurrentUser":
			return map[string]any{"uid": "42"}, 0
		case "mediatopic.post":
			return "topic-" + form["gid"], 0
		case "mediatopic.getByIds":
			return map[string]any{"media_topics": []any{map[string]any{"id": "read-" + form["topic_ids"]}}}, 0
		case "users.getInfo":
			return []any{}, 0
		}
		return nil, 3
	})
}

// TestModuleRun runs a module once per group: its inputs wait for a call
// of the workflow, its steps and those of the module inside it run under
// prefixed addresses, and its outputs come back as module.NAME[KEY].
func TestModuleRun(t *testing.T) {
	t.Parallel()
	files := map[string]string{"main.hcl": testSession + `
variable "groups" {
  type    = list(string)
  default = ["g1", "g2", "g3"]
}
call "me" { method = "users.getCurrentUser" }
module "post" {
  source   = "./modules/post"
  for_each = toset(var.groups)
  gid      = each.key
  text     = "hello ${each.value} from ${call.me.result.uid}"
}
call "after" {
  method     = "users.getInfo"
  params     = { uids = "1", fields = "name" }
  depends_on = [module.post]
}
output "topics" { value = { for k, m in module.post : k => m.topic_id } }
output "read"   { value = module.post["g2"].read }
`}
	for k, v := range postModule {
		files[k] = v
	}
	w := loadTree(t, writeTree(t, files))
	srv := moduleAPI(t)
	rec := &recorder{}
	res, diags := w.Run(t.Context(), Inputs{Variables: vars("groups", cty.ListVal([]cty.Value{cty.StringVal("g1"), cty.StringVal("g2"), cty.StringVal("g3")}))},
		Options{Connect: srv.connector(), Observer: rec})
	if diags.HasErrors() || res.Status != StatusOK {
		t.Fatalf("run: %v %s", res.Status, diags.Error())
	}
	calls := srv.Calls()
	if len(calls) != 1+3+3+1 {
		t.Fatalf("%d calls, want 8", len(calls))
	}
	var texts []string
	for i, c := range calls {
		switch c.Method {
		case "mediatopic.post":
			texts = append(texts, c.Form["attachment"])
		case "users.getInfo":
			if i != len(calls)-1 {
				t.Errorf("call.after (depends_on = [module.post]) ran before the module's steps: call %d of %d", i+1, len(calls))
			}
		}
	}
	slices.Sort(texts)
	for i, g := range []string{"g1", "g2", "g3"} {
		if !strings.Contains(texts[i], "hello "+g+" from 42") {
			t.Errorf("post %d: %s", i, texts[i])
		}
	}
	outs := map[string]string{}
	for _, o := range res.Outputs {
		outs[o.Name] = lang.FormatValue(o.Value, 0)
	}
	if want := `{
  g1 = "topic-g1"
  g2 = "topic-g2"
  g3 = "topic-g3"
}`; outs["topics"] != want {
		t.Errorf("topics = %s, want %s", outs["topics"], want)
	}
	if outs["read"] != `"read-topic-g2"` {
		t.Errorf("read = %s", outs["read"])
	}
	if len(res.Outputs) != 2 {
		t.Errorf("outputs %v: a module's outputs are not the workflow's", res.Outputs)
	}
	var steps []string
	for _, e := range rec.events {
		if e.Type == EventFinished {
			steps = append(steps, e.Step.String())
		}
	}
	slices.Sort(steps)
	want := []string{"call.after", "call.me",
		`module.post["g1"].call.post`, `module.post["g1"].module.read.call.get`,
		`module.post["g2"].call.post`, `module.post["g2"].module.read.call.get`,
		`module.post["g3"].call.post`, `module.post["g3"].module.read.call.get`}
	if !slices.Equal(steps, want) {
		t.Errorf("finished steps\n%s\nwant\n%s", strings.Join(steps, "\n"), strings.Join(want, "\n"))
	}
}

// TestModulePlan plans the module instances a variable gives, with the
// values known before any call, and shows the input waiting for a call as
// known after it.
func TestModulePlan(t *testing.T) {
	t.Parallel()
	files := map[string]string{"main.hcl": testSession + `
variable "groups" { type = list(string) }
call "me" { method = "users.getCurrentUser" }
module "post" {
  source   = "./modules/post"
  for_each = var.groups
  gid      = each.value
  text     = "from ${call.me.result.uid}"
}
`}
	for k, v := range postModule {
		files[k] = v
	}
	w := loadTree(t, writeTree(t, files))
	p, diags := w.Plan(t.Context(), Inputs{Variables: vars("groups", cty.TupleVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")}))})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	var addrs []string
	for _, s := range p.Steps {
		addrs = append(addrs, s.Addr.String())
		if s.Addr.String() == "module.post[1].call.post" {
			params := lang.FormatValue(s.Instances[0].Params, 0)
			if !strings.Contains(params, `gid        = "b"`) || !strings.Contains(params, "(known after call.me)") {
				t.Errorf("params of module.post[1].call.post:\n%s", params)
			}
		}
	}
	want := []string{"call.me", "module.post[0].call.post", "module.post[0].module.read.call.get", "module.post[1].call.post", "module.post[1].module.read.call.get"}
	if !slices.Equal(addrs, want) {
		t.Errorf("planned %v, want %v", addrs, want)
	}

	// Without the variable's value (validate), one placeholder instance.
	p, diags = w.Plan(t.Context(), Inputs{Variables: w.Config().UnknownVariables()})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if len(p.Steps) != 3 || p.Steps[1].Addr.String() != "module.post[*].call.post" {
		t.Errorf("placeholder plan: %v", p.Steps)
	}
}

// TestModuleSessions passes the caller's sessions to a module: by the
// sessions map, by name, or the only one; and refuses a module whose
// session cannot be told.
func TestModuleSessions(t *testing.T) {
	t.Parallel()
	twoSessions := `
session "admin" {
  app_key        = "APPKEY"
  app_secret_key = "S3CRET-app-secret-key"
  access_token   = "ADMIN-token"
}
session "reader" {
  app_key        = "APPKEY"
  app_secret_key = "S3CRET-app-secret-key"
  access_token   = "READER-token"
}
`
	module := `
session "main" {}
call "me" { method = "users.getCurrentUser" }
`
	dir := writeTree(t, map[string]string{"main.hcl": twoSessions + `
module "m" {
  source   = "./m"
  sessions = { main = "reader" }
}
`, "m/main.hcl": module})
	w := loadTree(t, dir)
	srv := moduleAPI(t)
	if res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector()}); res.Status != StatusOK {
		t.Fatal(diags.Error())
	}
	if calls := srv.Calls(); len(calls) != 1 || calls[0].Form["access_token"] != "READER-token" {
		t.Errorf("the module did not call with session reader: %v", calls)
	}

	dir = writeTree(t, map[string]string{"main.hcl": twoSessions + `
module "m" { source = "./m" }
`, "m/main.hcl": module})
	cfg, diags := lang.Load(dir)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	_, diags = Compile(cfg)
	wantDiag(t, diags, "Missing session", `module.m needs a session "main"`, `sessions = { main = "admin" }`)
}

// TestModuleForEachBeforeCalls refuses a module for_each that waits for a
// call, and an input of the wrong type, before any call.
func TestModuleForEachBeforeCalls(t *testing.T) {
	t.Parallel()
	files := map[string]string{"main.hcl": testSession + `
call "groups" { method = "users.getCurrentUser" }
module "post" {
  source   = "./modules/post"
  for_each = toset(call.groups.result.gids)
  gid      = each.key
  text     = "x"
}
`}
	for k, v := range postModule {
		files[k] = v
	}
	w := loadTree(t, writeTree(t, files))
	srv := moduleAPI(t)
	res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector()})
	if res.Status != StatusInvalid || len(srv.Calls()) != 0 {
		t.Fatalf("status %v, %d calls", res.Status, len(srv.Calls()))
	}
	wantDiag(t, diags, "Invalid for_each", "must be known before any call", "call.groups")

	files["main.hcl"] = testSession + `
locals { texts = ["a", "b"] }
module "post" {
  source = "./modules/post"
  gid    = "g1"
  text   = local.texts
}
`
	w = loadTree(t, writeTree(t, files))
	res, diags = w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector()})
	if res.Status != StatusInvalid || len(srv.Calls()) != 0 {
		t.Fatalf("status %v, %d calls", res.Status, len(srv.Calls()))
	}
	wantDiag(t, diags, "Invalid value for input", "module.post: The value", "var.text")

	files["main.hcl"] = testSession + `
module "post" {
  source = "./modules/post"
  gid    = "g1"
  text   = join("", [for i in range(30) : "long"])
}
`
	w = loadTree(t, writeTree(t, files))
	_, diags = w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector()})
	wantDiag(t, diags, "Invalid value for variable", "text is too long")
	if len(srv.Calls()) != 0 {
		t.Errorf("%d calls", len(srv.Calls()))
	}
}

// TestModuleResume resumes a run of a module with its journal: the
// instances are recorded under their module addresses and not called
// again.
func TestModuleResume(t *testing.T) {
	t.Parallel()
	files := map[string]string{"main.hcl": testSession + `
module "post" {
  source   = "./modules/post"
  for_each = range(2)
  gid      = "g${each.key}"
  text     = "t"
}
`}
	for k, v := range postModule {
		files[k] = v
	}
	w := loadTree(t, writeTree(t, files))
	srv := moduleAPI(t)
	path := filepath.Join(t.TempDir(), "state.journal")
	if res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), State: &StateOptions{Path: path}}); res.Status != StatusOK {
		t.Fatal(diags.Error())
	}
	journal, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(journal), `module.post[1].call.post`) {
		t.Errorf("the journal does not name module instances:\n%s", journal)
	}
	res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), State: &StateOptions{Path: path, Resume: true}})
	if res.Status != StatusOK || res.Calls != 0 || res.Reused != 4 {
		t.Errorf("resume: %v, %d calls, %d reused; %s", res.Status, res.Calls, res.Reused, diags.Error())
	}
}

func wantDiag(t *testing.T, diags hcl.Diagnostics, summary string, details ...string) {
	t.Helper()
	for _, d := range diags {
		if d.Summary != summary {
			continue
		}
		ok := true
		for _, s := range details {
			ok = ok && strings.Contains(d.Detail, s)
		}
		if ok {
			return
		}
	}
	t.Errorf("no %q diagnostic with %q in:\n%s", summary, details, diags.Error())
}

// TestModuleShards splits the instances of a module with for_each over
// the shards of a run, as a step's instances are: each instance, its
// writes included, runs in exactly one shard, and module.NAME holds the
// instances of the shard that computes it.
func TestModuleShards(t *testing.T) {
	t.Parallel()
	files := map[string]string{"main.hcl": testSession + `
module "post" {
  source   = "./modules/post"
  for_each = toset(["g1", "g2", "g3", "g4", "g5", "g6"])
  gid      = each.key
  text     = "t"
}
output "topics" { value = [for k, m in module.post : m.topic_id] }
`}
	for k, v := range postModule {
		files[k] = v
	}
	w := loadTree(t, writeTree(t, files))
	srv := moduleAPI(t)
	var all []string
	for i := 1; i <= 2; i++ {
		before := len(srv.Calls())
		rec := &recorder{}
		res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), Observer: rec, Shard: Shard{Index: i, Count: 2}})
		if res.Status != StatusOK {
			t.Fatalf("shard %d: %v %s", i, res.Status, diags.Error())
		}
		var posted []string
		for _, c := range srv.Calls()[before:] {
			if c.Method == "mediatopic.post" {
				posted = append(posted, "topic-"+c.Form["gid"])
			}
		}
		slices.Sort(posted)
		if len(posted) == 0 || len(posted) == 6 {
			t.Errorf("shard %d posted %v: the instances were not split", i, posted)
		}
		got := lang.FormatValue(res.Outputs[0].Value, 0)
		for _, p := range posted {
			if !strings.Contains(got, p) {
				t.Errorf("shard %d posted %s, its output lacks it: %s", i, p, got)
			}
		}
		if strings.Count(got, "topic-") != len(posted) {
			t.Errorf("shard %d: output %s holds another shard's instances (posted %v)", i, got, posted)
		}
		skipped := rec.count(EventSkipped)
		if skipped != 2*(6-len(posted)) {
			t.Errorf("shard %d: %d skipped events for %d foreign instances", i, skipped, 6-len(posted))
		}
		all = append(all, posted...)
	}
	slices.Sort(all)
	want := []string{"topic-g1", "topic-g2", "topic-g3", "topic-g4", "topic-g5", "topic-g6"}
	if !slices.Equal(all, want) {
		t.Errorf("the shards posted %v, want each group once: %v", all, want)
	}
}

// TestModuleForEachThroughLocal names the module and the locals a
// for_each waits for a call through, for every module that does.
func TestModuleForEachThroughLocal(t *testing.T) {
	t.Parallel()
	files := map[string]string{"main.hcl": testSession + `
call "me" { method = "users.getCurrentUser" }
locals {
  gids = call.me.result.gids
  set  = toset(local.gids)
}
module "a" {
  source   = "./modules/post"
  for_each = local.set
  gid      = each.key
  text     = "a"
}
module "b" {
  source   = "./modules/post"
  for_each = local.set
  gid      = each.key
  text     = "b"
}
`}
	for k, v := range postModule {
		files[k] = v
	}
	w := loadTree(t, writeTree(t, files))
	_, diags := w.Plan(t.Context(), Inputs{})
	wantDiag(t, diags, "Invalid for_each", "module.a", "call.me (through local.set, local.gids)")
	wantDiag(t, diags, "Invalid for_each", "module.b", "call.me (through local.set, local.gids)")
}

// BenchmarkModulePlan plans a module of 1,000 and 10,000 instances (each
// a variable from a call, a local, one call and an output): the graph is
// built for the instances the inputs give, then planned. Reported: the
// time per instance, which stays flat as the instances grow.
//
//	go test ./engine -run '^$' -bench ModulePlan -benchtime 3x
func BenchmarkModulePlan(b *testing.B) {
	dir := writeTree(b, map[string]string{"main.hcl": testSession + `
variable "n" { type = number }
call "me" { method = "users.getCurrentUser" }
module "m" {
  source   = "./m"
  for_each = range(var.n)
  uid      = call.me.result.uid
}
output "count" { value = length(module.m) }
`, "m/main.hcl": `
session "main" {}
variable "uid" { type = string }
locals { fields = "name" }
call "info" {
  method = "users.getInfo"
  params = { uids = var.uid, fields = local.fields }
}
output "name" { value = call.info.result[0].name }
`})
	w := loadTree(b, dir)
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			in := Inputs{Variables: vars("n", cty.NumberIntVal(int64(n)))}
			for b.Loop() {
				if _, diags := w.Plan(b.Context(), in); diags.HasErrors() {
					b.Fatal(diags.Error())
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/instance")
		})
	}
}

// TestModuleLuaFunctions gives each module the lua:: functions of its own
// lua folder: two modules whose libraries share names each get theirs,
// and the workflow does not see them.
func TestModuleLuaFunctions(t *testing.T) {
	t.Parallel()
	lib := func(tag string) string {
		return `local M = {}
M.functions = { tag = function(s) return "` + tag + `:" .. s end }
return M
`
	}
	files := map[string]string{
		"main.hcl": testSession + `
module "a" { source = "./modules/a" }
module "b" { source = "./modules/b" }
output "tags" { value = [module.a.r, module.b.r] }
`,
		"modules/a/main.hcl":     `output "r" { value = lua::tag("x") }`,
		"modules/a/lua/util.lua": lib("A"),
		"modules/b/main.hcl":     `output "r" { value = lua::tag("x") }`,
		"modules/b/lua/util.lua": lib("B"),
	}
	w := loadTree(t, writeTree(t, files))
	p, diags := w.Plan(t.Context(), Inputs{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if got := lang.FormatValue(p.Outputs[0].Value, 0); got != `["A:x", "B:x"]` {
		t.Errorf("tags = %s, want each module's own function", got)
	}

	files["main.hcl"] += `output "top" { value = lua::tag("y") }`
	cfg, diags := lang.Load(writeTree(t, files))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	w, _ = Compile(cfg)
	if _, diags = w.Plan(t.Context(), Inputs{}); !diags.HasErrors() {
		t.Error("the workflow called a module's lua:: function")
	}
}

// TestModuleSecrets counts a module's sensitive variables among the
// secrets a run hides, when their values are known before any call (a
// default, or an input of constants), and refuses a module for_each with
// a sensitive element, as a step's.
func TestModuleSecrets(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"main.hcl": testSession + `
module "m" {
  source = "./m"
  pin    = "pin-${upper("q7zk9")}"
}
`,
		"m/main.hcl": `
variable "pin" {
  type      = string
  sensitive = true
}
variable "dflt" {
  type      = string
  sensitive = true
  default   = "defaultsecret"
}
`,
	}
	w := loadTree(t, writeTree(t, files))
	secrets := w.Secrets(t.Context(), Inputs{})
	for _, want := range []string{"pin-Q7ZK9", "defaultsecret"} {
		if !slices.Contains(secrets, want) {
			t.Errorf("secrets %q lack %q", secrets, want)
		}
	}

	files["m/main.hcl"] += `
module "inner" {
  source   = "./inner"
  for_each = { a = var.pin }
  x        = each.value
}
`
	files["m/inner/main.hcl"] = `variable "x" {}`
	w = loadTree(t, writeTree(t, files))
	_, diags := w.Plan(t.Context(), Inputs{})
	wantDiag(t, diags, "Sensitive for_each", "sensitive")
}

// TestModuleOutputsOneByOne: a reference to one output of a module waits
// for that output only, so two modules may feed each other outputs that
// do not depend on each other, and a step reading one output does not
// wait for the module's other steps.
func TestModuleOutputsOneByOne(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"main.hcl": testSession + `
module "a" {
  source = "./a"
  x      = module.b.o1
}
module "b" {
  source = "./b"
  y      = module.a.o
}
output "both" { value = [module.a.o, module.b.o2] }
`,
		"a/main.hcl": `
variable "x" { type = string }
output "o" { value = "a(${var.x})" }
`,
		"b/main.hcl": `
variable "y" { type = string }
output "o1" { value = "b1" }
output "o2" { value = "b2(${var.y})" }
`,
	}
	w := loadTree(t, writeTree(t, files))
	p, diags := w.Plan(t.Context(), Inputs{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if got := lang.FormatValue(p.Outputs[0].Value, 0); got != `["a(b1)", "b2(a(b1))"]` {
		t.Errorf("both = %s", got)
	}

	files = map[string]string{"main.hcl": testSession + `
module "post" {
  source = "./modules/post"
  gid    = "g1"
  text   = "t"
}
call "after" {
  method = "users.getInfo"
  params = { uids = module.post.topic_id, fields = "name" }
}
`}
	for k, v := range postModule {
		files[k] = v
	}
	w = loadTree(t, writeTree(t, files))
	after := w.root.nodes[lang.Address{Kind: lang.KindCall, Name: "after"}]
	for _, d := range after.deps {
		if d.addr.String() == "module.post" || strings.Contains(d.addr.String(), "read") {
			t.Errorf("call.after waits for %s; it reads module.post.topic_id only", d.addr)
		}
	}
}

// TestModuleWarningsOnce: building the graph again for the instances of a
// module's for_each reports only what the for_each gives, not again what
// Compile reported.
func TestModuleWarningsOnce(t *testing.T) {
	t.Parallel()
	files := map[string]string{"main.hcl": testSession + `
call "warn" {
  method = "users.getCurrentUser"
  params = { bogus = 1 }
}
module "post" {
  source   = "./modules/post"
  for_each = toset(["a", "b"])
  gid      = each.key
  text     = "t"
}
`}
	for k, v := range postModule {
		files[k] = v
	}
	cfg, diags := lang.Load(writeTree(t, files))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	w, diags := Compile(cfg)
	count := func(diags hcl.Diagnostics) (n int) {
		for _, d := range diags {
			if d.Summary == "Unknown parameter" {
				n++
			}
		}
		return n
	}
	if n := count(diags); n != 1 {
		t.Errorf("Compile: %d warnings, want 1", n)
	}
	_, diags = w.Plan(t.Context(), Inputs{})
	if n := count(diags); n != 0 {
		t.Errorf("Plan repeats Compile's warning %d times", n)
	}
}

// TestModuleFilesFingerprint: every file of a module is part of the run
// -resume continues, one that declares only variables too.
func TestModuleFilesFingerprint(t *testing.T) {
	t.Parallel()
	dir := writeTree(t, map[string]string{
		"main.hcl": testSession + `
module "m" {
  source = "./m"
  uid    = "1"
  fields = "name"
}
`,
		"m/main.hcl": `
session "main" {}
call "info" {
  method = "users.getInfo"
  params = { uids = var.uid, fields = var.fields }
}
`,
		"m/variables.hcl": "variable \"uid\" { type = string }\nvariable \"fields\" { default = \"name\" }\n",
	})
	srv := moduleAPI(t)
	path := filepath.Join(t.TempDir(), "state.journal")
	if res, diags := loadTree(t, dir).Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), State: &StateOptions{Path: path}}); res.Status != StatusOK {
		t.Fatal(diags.Error())
	}
	// Every variable is set by the caller: the nodes of this file's
	// declarations are ranged at the caller's inputs.
	if err := os.WriteFile(filepath.Join(dir, "m", "variables.hcl"), []byte("variable \"uid\" { type = number }\nvariable \"fields\" { default = \"name\" }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, diags := loadTree(t, dir).Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), State: &StateOptions{Path: path, Resume: true}})
	if res.Status != StatusInvalid {
		t.Fatalf("resumed after a module's variables changed: %v", res.Status)
	}
	wantDiag(t, diags, "The state belongs to another run")
}
