package engine

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/lang"
	"github.com/okru-run/okru-run/lang/lua"
	"github.com/okru-run/okru-run/okru"
	"github.com/zclconf/go-cty/cty"
)

// usersServer answers users.getCurrentUser with a big numeric id,
// friends.get with three ids and users.getInfo with a name per uid, the
// way ok.ru does; other methods fail with PARAM (100).
func usersServer(t *testing.T) *apiServer {
	return newAPIServer(t, func(method string, form map[string]string) (any, int) {
		switch method {
		case "users.getCurrentUser":
			return json.RawMessage(`{"uid": 12345678901234567890, "name": "Demo"}`), 0
		case "friends.get":
			return []string{"11", "22", "33"}, 0
		case "users.getInfo":
			var out []map[string]any
			for _, id := range strings.Split(form["uids"], ",") {
				out = append(out, map[string]any{"uid": id, "first_name": "U" + id})
			}
			return out, 0
		}
		return nil, 100
	})
}

// outputsJSON maps each output of a run to its display JSON.
func outputsJSON(res *Result) map[string]string {
	m := map[string]string{}
	for _, o := range res.Outputs {
		m[o.Name] = string(lang.DisplayJSON(o.Value))
	}
	return m
}

// TestScriptStepChainsResults runs a call, a script reading its result
// and a call using the script's result, and checks the values, the order
// and that the script's calls are events of its step.
func TestScriptStepChainsResults(t *testing.T) {
	t.Parallel()
	srv := usersServer(t)
	w := compile(t, testSession+`
call "me" {
  method = "users.getCurrentUser"
}
call "friends" {
  method = "friends.get"
}
script "pick" {
  input  = { me = call.me.result.uid, friends = call.friends.result, n = 2 }
  source = <<-EOT
    local picked = {}
    for i = 1, input.n do picked[i] = input.friends[i] end
    log("picked", #picked, "of", #input.friends)
    local info = okru.call("users.getInfo", {uids = picked, fields = "first_name"})
    return {me = input.me, ids = picked, first = info[1].first_name, none = json.object()}
  EOT
}
call "info" {
  method = "users.getInfo"
  params = { uids = script.pick.result.ids, fields = "first_name" }
}
output "me"    { value = script.pick.result.me }
output "first" { value = script.pick.result.first }
output "none"  { value = script.pick.result.none }
output "names" { value = call.info.result[*].first_name }
`)
	rec := &recorder{}
	res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), Observer: rec, Parallelism: 1})
	if diags.HasErrors() || res.Status != StatusOK {
		t.Fatalf("run: status %v: %s", res.Status, diags.Error())
	}
	want := map[string]string{
		"me":    `"12345678901234567890"`, // a number beyond 2^53 reaches Lua as its exact text
		"first": `"U11"`,
		"none":  `{}`,
		"names": `["U11","U22"]`,
	}
	for name, w := range want {
		if got := outputsJSON(res)[name]; got != w {
			t.Errorf("output %s = %s, want %s", name, got, w)
		}
	}
	var methods []string
	for _, c := range srv.Calls() {
		methods = append(methods, c.Method)
	}
	if got := strings.Join(methods, " "); got != "users.getCurrentUser friends.get users.getInfo users.getInfo" {
		t.Errorf("calls = %s", got)
	}

	var lines []string
	for _, e := range rec.events {
		if e.Step.Kind != lang.KindScript {
			continue
		}
		line := string(e.Type) + " " + e.Method
		if e.FromScript {
			line += " (from script)"
		}
		if e.Type == EventLog {
			line += " " + e.Message
		}
		lines = append(lines, line)
	}
	wantLines := []string{
		"started lua",
		"log  picked 2 of 3",
		"started users.getInfo (from script)",
		"finished users.getInfo (from script)",
		"finished lua",
	}
	if strings.Join(lines, "\n") != strings.Join(wantLines, "\n") {
		t.Errorf("events of script.pick:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(wantLines, "\n"))
	}
}

func TestScriptForEachAndWhen(t *testing.T) {
	t.Parallel()
	srv := usersServer(t)
	w := compile(t, testSession+`
call "friends" {
  method = "friends.get"
}
script "each" {
  for_each = call.friends.result
  when     = each.value != "22"
  input    = { uid = each.value, index = each.key }
  source   = "return okru.call('users.getInfo', {uids = input.uid, fields = 'first_name'})[1].first_name .. '#' .. input.index"
}
script "by_key" {
  for_each = { a = 1, b = 2 }
  input    = each.value * 10
  source   = "return input + 1"
}
output "each"   { value = script.each[*].result }
output "by_key" { value = { for k, s in script.by_key : k => s.result } }
`)
	rec := &recorder{}
	res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), Observer: rec})
	if diags.HasErrors() || res.Status != StatusOK {
		t.Fatalf("run: status %v: %s", res.Status, diags.Error())
	}
	outs := outputsJSON(res)
	if got := outs["each"]; got != `["U11#0",null,"U33#2"]` {
		t.Errorf("each = %s", got)
	}
	if got := outs["by_key"]; got != `{"a":11,"b":21}` {
		t.Errorf("by_key = %s", got)
	}
	var skipped int
	for _, e := range rec.events {
		if e.Type == EventSkipped && e.Step.Name == "each" && e.Reason == "when is false" {
			skipped++
		}
	}
	if skipped != 1 {
		t.Errorf("skipped instances = %d, want 1", skipped)
	}
}

// TestScriptSessions checks that a script reaches every session by name,
// that its default is the session it names, and what happens without one.
func TestScriptSessions(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, func(method string, form map[string]string) (any, int) {
		return map[string]any{"token": form["access_token"]}, 0
	})
	const sessions = `
session "alice" {
  app_key        = "APPKEY"
  app_secret_key = "S3CRET-app-secret-key"
  access_token   = "alice-token-1234567"
}
session "bob" {
  app_key        = "APPKEY"
  app_secret_key = "S3CRET-app-secret-key"
  access_token   = "bob-token-12345678"
}
`
	tests := []struct {
		name, block, want, wantErr string
	}{
		{"lists the sessions", `source = "return okru.sessions()"`, `["alice","bob"]`, ""},
		{"named session", `source = "return okru.call('users.getCurrentUser', nil, 'bob').token"`, `"bob-token-12345678"`, ""},
		{"bound session", `source = "local s = okru.session('bob') return s:call('users.getCurrentUser').token"`, `"bob-token-12345678"`, ""},
		{"default from the block", "session = \"alice\"\n  source = \"return okru.call('users.getCurrentUser').token\"", `"alice-token-1234567"`, ""},
		{"no default", `source = "return okru.call('users.getCurrentUser')"`, "",
			`the run has several sessions ("alice", "bob"), so the script must name one, as in okru.call("users.getCurrentUser", params, "alice")`},
		{"reserved parameter", `source = "return okru.call('users.getCurrentUser', {access_token = 'x'}, 'bob')"`, "",
			"access_token is set by the session when the call is signed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := compile(t, sessions+"script \"s\" {\n  "+tt.block+"\n}\noutput \"r\" { value = script.s.result }\n")
			res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector()})
			if tt.wantErr != "" {
				if res.Status != StatusFailed || !strings.Contains(diags.Error(), tt.wantErr) {
					t.Fatalf("status %v, diagnostics %q; want a failure saying %q", res.Status, diags.Error(), tt.wantErr)
				}
				if strings.Contains(diags.Error(), "bob-token") || strings.Contains(diags.Error(), "S3CRET") {
					t.Errorf("a credential leaked into %q", diags.Error())
				}
				return
			}
			if diags.HasErrors() || res.Status != StatusOK {
				t.Fatalf("run: status %v: %s", res.Status, diags.Error())
			}
			if got := outputsJSON(res)["r"]; got != tt.want {
				t.Errorf("result = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestScriptFailures checks each way a script step fails: the run fails,
// the diagnostic points at the script's line, and API errors keep their
// code and name.
func TestScriptFailures(t *testing.T) {
	t.Parallel()
	srv := usersServer(t)
	tests := []struct {
		name     string
		source   string
		extra    string
		line     int // the workflow line the diagnostic points at; 0: the block
		want     []string
		apiError okru.Code
	}{
		{name: "uncaught API error", source: "local x = 1\nreturn okru.call('group.getInfo', {uids = '1', fields = 'name'})",
			line: 5, want: []string{"script.s:2: call group.getInfo: PARAM (100): TEST : injected"}, apiError: 100},
		{name: "runtime error", source: "local t = nil\n\nreturn t.x", line: 6, want: []string{"script.s:3: t is nil, not a table"}},
		{name: "error raised", source: "error('no friends found')", line: 4, want: []string{"script.s:1: no friends found"}},
		{name: "timeout stops an endless loop", source: "while true do end", extra: `timeout = "50ms"`, line: 4, want: []string{"script.s:1: script stopped: timeout after 50ms"}},
		{name: "sandbox", source: "local f = io.open('/etc/passwd')", line: 4, want: []string{"script.s:1: io.open: the io library is not available in okru-run scripts"}},
		{name: "result is not JSON", source: "return {f = print}", want: []string{"script.s: result.f: a function cannot be converted to JSON"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := testSession + "script \"s\" {\n  " + tt.extra + "\n  source = <<-EOT\n" + indent(tt.source) + "\n  EOT\n}\noutput \"r\" { value = script.s.result }\n"
			w := compile(t, src)
			rec := &recorder{}
			res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), Observer: rec})
			if res.Status != StatusFailed || !diags.HasErrors() {
				t.Fatalf("status %v, diagnostics %v; want a failure", res.Status, diags)
			}
			d := diags[0]
			for _, w := range tt.want {
				if !strings.Contains(d.Detail, w) {
					t.Errorf("detail %q does not contain %q", d.Detail, w)
				}
			}
			if d.Summary != "Script failed" || d.Subject == nil {
				t.Fatalf("diagnostic = %+v", d)
			}
			wantLine := tt.line + strings.Count(testSession, "\n")
			if tt.line == 0 {
				wantLine = strings.Count(testSession, "\n") + 1
			}
			if d.Subject.Start.Line != wantLine {
				t.Errorf("diagnostic points at line %d, want %d:\n%s", d.Subject.Start.Line, wantLine, src)
			}
			instanceFailures := 0
			for _, e := range rec.events {
				if e.Type != EventFailed || e.FromScript {
					continue
				}
				instanceFailures++
				if tt.apiError != 0 {
					apiErr, ok := errors.AsType[*okru.Error](e.Err)
					if !ok || apiErr.Code != tt.apiError {
						t.Errorf("failed event error %v does not hold the API error %d", e.Err, tt.apiError)
					}
				}
				if _, ok := errors.AsType[*lua.ScriptError](e.Err); !ok {
					t.Errorf("failed event error %T does not hold a *lua.ScriptError", e.Err)
				}
			}
			if instanceFailures != 1 {
				t.Errorf("failed events of the instance = %d, want 1", instanceFailures)
			}
		})
	}
}

// indent indents Lua for a <<- heredoc, so that positions must account
// for the stripped indentation.
func indent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "    " + l
		}
	}
	return strings.Join(lines, "\n")
}

func TestScriptHandlesAPIErrors(t *testing.T) {
	t.Parallel()
	srv := usersServer(t)
	w := compile(t, testSession+`
script "s" {
  source = <<-EOT
    local ok, err = okru.pcall("group.getInfo", {uids = "1", fields = "name"})
    local ok2, err2 = pcall(okru.call, "group.getInfo", {uids = "1", fields = "name"})
    return {ok = ok, code = err.code, name = err.name, class = err.class, raised = err2.code}
  EOT
}
output "r" { value = script.s.result }
`)
	rec := &recorder{}
	res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), Observer: rec})
	if diags.HasErrors() || res.Status != StatusOK {
		t.Fatalf("run: status %v: %s", res.Status, diags.Error())
	}
	if got := outputsJSON(res)["r"]; got != `{"class":"request","code":100,"name":"PARAM","raised":100}` {
		t.Errorf("result = %s", got)
	}
	// The failed calls are still reported, as calls of the script.
	n := 0
	for _, e := range rec.events {
		if e.Type == EventFailed {
			n++
			if !e.FromScript || e.Method != "group.getInfo" {
				t.Errorf("failed event %+v, want one from the script", e)
			}
		}
	}
	if n != 2 {
		t.Errorf("failed events = %d, want 2", n)
	}
}

func TestScriptRetriesAndPages(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	attempts := 0
	srv := newAPIServer(t, func(method string, form map[string]string) (any, int) {
		switch method {
		case "users.getCurrentUser":
			mu.Lock()
			defer mu.Unlock()
			attempts++
			if attempts == 1 {
				return nil, 1 // UNKNOWN: transient, retried
			}
			return map[string]any{"uid": "1"}, 0
		case "group.getMembers":
			switch form["anchor"] {
			case "":
				return map[string]any{"members": []string{"a", "b"}, "anchor": "p2", "has_more": true}, 0
			case "p2":
				return map[string]any{"members": []string{"c"}, "anchor": "p3", "has_more": true}, 0
			}
			return map[string]any{"members": []string{"d"}, "anchor": "p4", "has_more": false}, 0
		}
		return nil, 3
	})
	w := compile(t, testSession+`
script "s" {
  retry {
    attempts = 2
    backoff  = "1ms"
  }
  source = <<-EOT
    local me = okru.call("users.getCurrentUser")
    local all = {}
    for page in okru.paginate("group.getMembers", {uid = "g1", count = 2}) do
      for _, m in ipairs(page.members) do all[#all + 1] = m end
    end
    return {me = me.uid, members = all}
  EOT
}
output "r" { value = script.s.result }
`)
	rec := &recorder{}
	res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), Observer: rec})
	if diags.HasErrors() || res.Status != StatusOK {
		t.Fatalf("run: status %v: %s", res.Status, diags.Error())
	}
	if got := outputsJSON(res)["r"]; got != `{"me":"1","members":["a","b","c","d"]}` {
		t.Errorf("result = %s", got)
	}
	var retried, pages int
	for _, e := range rec.events {
		switch {
		case e.Type == EventRetried && e.FromScript && e.Method == "users.getCurrentUser":
			retried++
		case e.Type == EventFinished && e.FromScript && e.Method == "group.getMembers":
			pages = e.Pages
		}
	}
	if retried != 1 || pages != 3 {
		t.Errorf("retried events = %d, want 1; pages = %d, want 3", retried, pages)
	}
}

// TestScriptSensitiveInput: a result computed from a sensitive value is
// sensitive, and the script's log lines never show the secret.
func TestScriptSensitiveInput(t *testing.T) {
	t.Parallel()
	srv := usersServer(t)
	const secret = "hunter2-very-secret"
	src := testSession + `
variable "password" {
  type      = string
  sensitive = true
}
script "s" {
  input  = { password = var.password }
  source = "log('the password is ' .. input.password) return #input.password"
}
output "length" {
  value = script.s.result
  %s
}
`
	run := func(outputAttrs string) (*Result, hcl.Diagnostics, *recorder) {
		w := compile(t, strings.Replace(src, "%s", outputAttrs, 1))
		rec := &recorder{}
		in := Inputs{Variables: vars("password", lang.Sensitive(cty.StringVal(secret)))}
		res, diags := w.Run(t.Context(), in, Options{Connect: srv.connector(), Observer: rec})
		return res, diags, rec
	}
	res, diags, _ := run("")
	if res.Status != StatusFailed || !strings.Contains(diags.Error(), "Output refers to sensitive values") {
		t.Errorf("an output of a sensitive result without sensitive = true: status %v, %s", res.Status, diags.Error())
	}
	res, diags, rec := run("sensitive = true")
	if diags.HasErrors() || res.Status != StatusOK {
		t.Fatalf("run: %s", diags.Error())
	}
	if got := outputsJSON(res)["length"]; got != `"(sensitive)"` {
		t.Errorf("length = %s, want it sensitive", got)
	}
	// The engine redacts session credentials from log lines; a sensitive
	// variable is redacted by the CLI, which knows every secret of the run.
	for _, e := range rec.events {
		if e.Type == EventLog && strings.Contains(e.Message, "S3CRET") {
			t.Errorf("log line shows a credential: %q", e.Message)
		}
	}
}

// TestScriptInterruptedDuringCall cancels the run while a call from Lua is
// waiting for the server: the script stops at once, reported as
// interrupted, not failed.
func TestScriptInterruptedDuringCall(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reading the form lets the server see the client hang up.
		_ = r.ParseForm()
		select {
		case arrived <- struct{}{}:
		default:
		}
		// Never answers: only the client can end the call.
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first
	w := compile(t, testSession+`
script "s" {
  source = <<-EOT
    local ok, err = okru.pcall("users.getCurrentUser")
    return "the script went on after its run was stopped"
  EOT
}
call "after" {
  method = "users.getCurrentUser"
  params = { x = script.s.result }
}
`)
	connect := func(_ context.Context, sc SessionConfig) (Caller, error) {
		sc.APIURL = srv.URL
		sess, err := NewSession(sc)
		if err != nil {
			return nil, err
		}
		return okru.New(sess, &okru.Options{Rate: okru.Unlimited}), nil
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		<-arrived
		cancel()
	}()
	rec := &recorder{}
	res, diags := w.Run(ctx, Inputs{}, Options{Connect: connect, Observer: rec})
	if res.Status != StatusInterrupted {
		t.Fatalf("status = %v, want interrupted: %s", res.Status, diags.Error())
	}
	var reasons []string
	for _, e := range rec.events {
		if e.Type == EventSkipped {
			reasons = append(reasons, e.Step.String()+": "+e.Reason)
		}
		if e.Type == EventFailed || (e.Type == EventStarted && e.Step.Name == "after") {
			t.Errorf("unexpected event %+v", e)
		}
	}
	if got := strings.Join(reasons, "; "); got != "script.s: interrupted; script.s: interrupted" {
		t.Errorf("skipped events = %q, want the call and the script interrupted", got)
	}
}

// TestScriptSyntaxErrors checks that Lua that does not compile is a
// diagnostic at its line and column: in the .lua file, or inside the
// workflow for a heredoc.
func TestScriptSyntaxErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad.lua"), []byte("local x = 1\nlocal y = = 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		block     string
		file      string
		line, col int
	}{
		{"file", `file = "bad.lua"`, filepath.Join(dir, "bad.lua"), 2, 11},
		{"heredoc", "source = <<EOT\nlocal x = 1\nlocal y = = 2\nEOT", "test.hcl", 4, 11},
		{"indented heredoc", "source = <<-EOT\n      local x = 1\n      local y = = 2\n    EOT", "test.hcl", 4, 17},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, diags := lang.LoadSource("test.hcl", []byte("script \"s\" {\n  "+tt.block+"\n}\n"), dir)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			_, diags = Compile(cfg)
			if len(diags) != 1 || diags[0].Summary != "Lua syntax error" {
				t.Fatalf("diagnostics = %v, want one Lua syntax error", diags)
			}
			d := diags[0]
			if d.Subject.Filename != tt.file || d.Subject.Start.Line != tt.line || d.Subject.Start.Column != tt.col {
				t.Errorf("subject = %s:%d:%d, want %s:%d:%d", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column, tt.file, tt.line, tt.col)
			}
			if !strings.Contains(d.Detail, "near '='") {
				t.Errorf("detail = %q", d.Detail)
			}
			src := cfg.Files()[d.Subject.Filename].Bytes
			if got := string(src[d.Subject.Start.Byte:d.Subject.End.Byte]); got != "=" {
				t.Errorf("subject covers %q, want the second =", got)
			}
		})
	}
}

func TestPlanScript(t *testing.T) {
	t.Parallel()
	w := compile(t, testSession+`
variable "n" {
  type    = number
  default = 3
}
call "friends" {
  method = "friends.get"
}
script "pick" {
  input  = { n = var.n, friends = call.friends.result }
  source = "return {}"
}
call "info" {
  method = "users.getInfo"
  params = { uids = script.pick.result.ids, fields = "first_name" }
}
`)
	p, diags := w.Plan(t.Context(), Inputs{Variables: vars("n", cty.NumberIntVal(3))})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if len(p.Steps) != 3 {
		t.Fatalf("planned steps = %d", len(p.Steps))
	}
	s := p.Steps[1]
	if s.Kind != lang.StepScript || s.Addr.String() != "script.pick" || s.Method != lang.ScriptMethod || s.Session != "main" {
		t.Errorf("planned script = %+v", s)
	}
	if got := string(lang.DisplayJSON(s.Instances[0].Input)); got != `{"friends":"(known after call.friends)","n":3}` {
		t.Errorf("input = %s", got)
	}
	if got := string(lang.DisplayJSON(p.Steps[2].Instances[0].Params)); got != `{"fields":"first_name","uids":"(known after script.pick)"}` {
		t.Errorf("params of call.info = %s", got)
	}
	if known, pending := p.Calls(); known != 2 || pending != 0 || p.Scripts() != 1 {
		t.Errorf("calls = %d known, %d pending, %d scripts; want 2, 0, 1", known, pending, p.Scripts())
	}
}

func TestCompileScriptErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, src, want string }{
		{"unknown session", testSession + "script \"s\" {\n  session = \"other\"\n  source = \"return 1\"\n}\n", `names session "other", which is not declared`},
		{"cycle", testSession + "script \"a\" {\n  input = script.b.result\n  source = \"return 1\"\n}\nscript \"b\" {\n  input = script.a.result\n  source = \"return 1\"\n}\n", "script.a → script.b → script.a"},
		{"depends_on", testSession + "script \"a\" {\n  depends_on = [call.nope]\n  source = \"return 1\"\n}\n", `No call "nope" is declared`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, diags := compileDiags(t, tt.src)
			if !diags.HasErrors() || !strings.Contains(diags.Error(), tt.want) {
				t.Errorf("diagnostics = %v, want %q", diags, tt.want)
			}
		})
	}
}
