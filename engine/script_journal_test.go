package engine

import (
	"context"
	"encoding/json"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/okru-run/okru-run/lang"
	"github.com/zclconf/go-cty/cty"
)

// scriptServer answers users.getCurrentUser, users.getInfo (failing while
// failInfo is set), mediatopic.post (a topic id made from the text) and
// friends.get, which hangs while hang is set, so that a test can stop a
// run in the middle of a script the way a crash would.
type scriptServer struct {
	*apiServer
	hang      atomic.Bool
	hangPages atomic.Bool // the third page of group.getMembers hangs
	failInfo  atomic.Bool
	released  chan struct{}
	once      sync.Once
}

func newScriptServer(t *testing.T) *scriptServer {
	s := &scriptServer{released: make(chan struct{})}
	s.apiServer = newAPIServer(t, func(method string, form map[string]string) (any, int) {
		switch method {
		case "users.getCurrentUser":
			return map[string]any{"uid": "42", "name": "Demo"}, 0
		case "users.getInfo":
			if s.failInfo.Load() {
				return nil, 2
			}
			return []map[string]any{{"uid": form["uids"], "first_name": "U" + form["uids"]}}, 0
		case "mediatopic.post":
			var att struct {
				Media []struct{ Text string } `json:"media"`
			}
			_ = json.Unmarshal([]byte(form["attachment"]), &att)
			if len(att.Media) > 0 && att.Media[0].Text == "hang" && s.hang.Load() {
				<-s.released
			}
			return "topic:" + att.Media[0].Text, 0
		case "friends.get":
			if s.hang.Load() {
				<-s.released
			}
			return []string{"7", "8"}, 0
		case "group.getMembers":
			switch form["anchor"] {
			case "":
				return map[string]any{"members": []string{"a", "b"}, "anchor": "p2", "has_more": true}, 0
			case "p2":
				return map[string]any{"members": []string{"c"}, "anchor": "p3", "has_more": true}, 0
			}
			if s.hangPages.Load() {
				<-s.released
			}
			return map[string]any{"members": []string{"d"}, "anchor": "p4", "has_more": false}, 0
		}
		return nil, 3
	})
	t.Cleanup(s.release)
	return s
}

// release lets the hung handlers answer (to a client that left).
func (s *scriptServer) release() { s.once.Do(func() { close(s.released) }) }

// posts counts the posts the server got, by text.
func (s *scriptServer) posts() map[string]int {
	m := map[string]int{}
	for _, c := range s.Calls() {
		if c.Method != "mediatopic.post" {
			continue
		}
		var att struct {
			Media []struct{ Text string } `json:"media"`
		}
		_ = json.Unmarshal([]byte(c.Form["attachment"]), &att)
		m[att.Media[0].Text]++
	}
	return m
}

func (s *scriptServer) count(method string) int {
	n := 0
	for _, c := range s.Calls() {
		if c.Method == method {
			n++
		}
	}
	return n
}

// crashDuring runs w until the server holds the n-th call of method made
// by the script, then cancels the run, as a crash or a kill would end it: the
// call in flight has no answer recorded. It returns the state's path.
func crashDuring(t *testing.T, w *Workflow, srv *scriptServer, method string, n int) string {
	t.Helper()
	path := statePath(t)
	srv.hang.Store(true)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var once sync.Once
	obs := ObserverFunc(func(e Event) {
		if e.FromScript && e.Type == EventStarted && e.Method == method {
			once.Do(func() {
				go func() {
					for srv.count(method) < n {
						runtime.Gosched()
					}
					cancel()
				}()
			})
		}
	})
	res, diags := w.Run(ctx, Inputs{}, Options{Connect: srv.connector(), Observer: obs, State: &StateOptions{Path: path}})
	if res.Status != StatusInterrupted {
		t.Fatalf("first run: status %v, want interrupted: %s", res.Status, diags.Error())
	}
	srv.hang.Store(false)
	srv.hangPages.Store(false)
	srv.release()
	return path
}

// scriptEvents lists the events of the calls a script made, as
// "type method".
func scriptEvents(rec *recorder) []string {
	var out []string
	for _, e := range rec.events {
		if e.FromScript {
			out = append(out, string(e.Type)+" "+e.Method)
		}
	}
	return out
}

// TestResumeScriptReplaysCalls stops a run while a script waits for a read
// that follows a write: the resumed run runs the script again, answering
// the read and the write from the journal, and makes only the call that
// had no answer.
func TestResumeScriptReplaysCalls(t *testing.T) {
	t.Parallel()
	srv := newScriptServer(t)
	w := compile(t, testSession+`
script "s" {
  source = <<-EOT
    local me = okru.call("users.getCurrentUser", {})
    local topic = okru.call("mediatopic.post", {type = "USER", attachment = {media = {{type = "text", text = "hello from " .. me.uid}}}})
    local friends = okru.call("friends.get", {})
    return {topic = topic, friends = friends}
  EOT
}
output "r" { value = script.s.result }
`)
	path := crashDuring(t, w, srv, "friends.get", 1)
	if got := srv.posts()["hello from 42"]; got != 1 {
		t.Fatalf("first run posted %d times, want 1", got)
	}

	before := len(srv.Calls())
	rec := &recorder{}
	res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), Observer: rec, State: &StateOptions{Path: path, Resume: true}})
	if res.Status != StatusOK {
		t.Fatalf("resumed run: status %v: %s", res.Status, diags.Error())
	}
	if got, want := outputsJSON(res)["r"], `{"friends":["7","8"],"topic":"topic:hello from 42"}`; got != want {
		t.Errorf("result = %s, want %s", got, want)
	}
	var made []string
	for _, c := range srv.Calls()[before:] {
		made = append(made, c.Method)
	}
	if strings.Join(made, " ") != "friends.get" {
		t.Errorf("the resumed run called %v, want only friends.get", made)
	}
	want := "reused users.getCurrentUser|reused mediatopic.post|started friends.get|finished friends.get"
	if got := strings.Join(scriptEvents(rec), "|"); got != want {
		t.Errorf("script events = %s\nwant %s", got, want)
	}

	// The script finished: a later resume reuses its result whole.
	before = len(srv.Calls())
	res, diags = w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), State: &StateOptions{Path: path, Resume: true}})
	if res.Status != StatusOK || len(srv.Calls()) != before || res.Reused != 1 {
		t.Errorf("second resume: status %v, %d calls, %d reused: %s", res.Status, len(srv.Calls())-before, res.Reused, diags.Error())
	}
}

// TestResumeScriptUnknownWrite stops a run while a script's write is in
// flight. The resumed script gets an "outcome unknown" error it can catch
// with okru.pcall, and the write is not sent again unless -retry-unknown.
func TestResumeScriptUnknownWrite(t *testing.T) {
	t.Parallel()
	src := testSession + `
script "s" {
  source = <<-EOT
    local me = okru.call("users.getCurrentUser", {})
    local topic, err = okru.pcall("mediatopic.post", {type = "USER", attachment = {media = {{type = "text", text = "hang"}}}})
    if err then
      return {code = err.code, name = err.name, message = err.message, method = err.method}
    end
    return {topic = topic, me = me.uid}
  EOT
}
output "r" { value = script.s.result }
`
	for _, tc := range []struct {
		name         string
		retryUnknown bool
		posts        int
		want         []string
	}{
		{name: "reported", posts: 1, want: []string{`"code":-1`, `"method":"mediatopic.post"`, `outcome unknown: call #2 of script.s was sent by the run being resumed`}},
		{name: "retry-unknown", retryUnknown: true, posts: 2, want: []string{`{"me":"42","topic":"topic:hang"}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newScriptServer(t)
			w := compile(t, src)
			path := crashDuring(t, w, srv, "mediatopic.post", 1)
			rec := &recorder{}
			res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), Observer: rec,
				State: &StateOptions{Path: path, Resume: true, RetryUnknown: tc.retryUnknown}})
			if res.Status != StatusOK {
				t.Fatalf("resumed run: status %v: %s", res.Status, diags.Error())
			}
			got := outputsJSON(res)["r"]
			for _, s := range tc.want {
				if !strings.Contains(got, s) {
					t.Errorf("result %s lacks %s", got, s)
				}
			}
			if n := srv.posts()["hang"]; n != tc.posts {
				t.Errorf("posted %d times, want %d", n, tc.posts)
			}
			if n := srv.count("users.getCurrentUser"); n != 1 {
				t.Errorf("users.getCurrentUser called %d times, want 1 (replayed on resume)", n)
			}
			if !tc.retryUnknown && rec.count(EventUnknown) != 1 {
				t.Errorf("%d outcome-unknown events, want 1", rec.count(EventUnknown))
			}
		})
	}
}

// TestResumeScriptDiverges resumes a script that takes another path than
// the recorded run (a read that failed then succeeds now): the replay
// ends at the first call that differs, which is made as a new call as
// its parameters differ, and a later write identical to one the recorded
// run sent is refused instead of sent twice.
func TestResumeScriptDiverges(t *testing.T) {
	t.Parallel()
	srv := newScriptServer(t)
	srv.failInfo.Store(true)
	w := compile(t, testSession+`
script "s" {
  source = <<-EOT
    local info = okru.pcall("users.getInfo", {uids = "1"})
    okru.call("mediatopic.post", {type = "USER", attachment = {media = {{type = "text", text = info and "with info" or "without info"}}}})
    okru.call("mediatopic.post", {type = "USER", attachment = {media = {{type = "text", text = "final"}}}})
    local friends = okru.call("friends.get", {})
    return friends
  EOT
}
output "r" { value = script.s.result }
`)
	path := crashDuring(t, w, srv, "friends.get", 1)
	srv.failInfo.Store(false)

	rec := &recorder{}
	res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), Observer: rec, State: &StateOptions{Path: path, Resume: true}})
	if res.Status != StatusFailed {
		t.Fatalf("resumed run: status %v, want failed on the refused write: %s", res.Status, diags.Error())
	}
	if want := map[string]int{"without info": 1, "with info": 1, "final": 1}; !equalCounts(srv.posts(), want) {
		t.Errorf("posts = %v, want %v", srv.posts(), want)
	}
	text := diags.Error()
	if !strings.Contains(text, "the script has taken another path since, so it was not sent again") || !strings.Contains(text, "call #3 of script.s") {
		t.Errorf("diagnostics do not explain the refusal: %s", text)
	}
	b, err := os.ReadFile(path)
	if err != nil || strings.Contains(string(b), "S3CRET") || strings.Contains(string(b), "T0KEN") {
		t.Errorf("state holds a secret or cannot be read: %v", err)
	}

	// Resumed once more, the script follows the second run's path, on
	// which the first run's "final" post comes at the place it was
	// recorded: its result is reused, and it is still sent only once.
	res, diags = w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), State: &StateOptions{Path: path, Resume: true}})
	if res.Status != StatusOK || outputsJSON(res)["r"] != `["7","8"]` {
		t.Errorf("second resume: status %v, result %s: %s", res.Status, outputsJSON(res)["r"], diags.Error())
	}
	if want := map[string]int{"without info": 1, "with info": 1, "final": 1}; !equalCounts(srv.posts(), want) {
		t.Errorf("after the second resume, posts = %v, want %v", srv.posts(), want)
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestResumeScriptPages stops a run while a script waits for the third
// page of a list: the resumed script gets the first two pages from the
// journal and the rest live, and a finished paging is replayed whole.
func TestResumeScriptPages(t *testing.T) {
	t.Parallel()
	srv := newScriptServer(t)
	srv.hangPages.Store(true)
	w := compile(t, testSession+`
script "s" {
  source = <<-EOT
    local all = {}
    for page in okru.paginate("group.getMembers", {uid = "g1", count = 2}) do
      for _, m in ipairs(page.members) do all[#all + 1] = m end
      log("page with " .. #page.members .. " members")
    end
    local friends = okru.call("friends.get", {})
    return {members = all, friends = friends}
  EOT
}
output "r" { value = script.s.result }
`)
	path := crashDuring(t, w, srv, "group.getMembers", 3)
	rec := &recorder{}
	res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), Observer: rec, State: &StateOptions{Path: path, Resume: true}})
	if res.Status != StatusOK {
		t.Fatalf("resumed run: status %v: %s", res.Status, diags.Error())
	}
	if got, want := outputsJSON(res)["r"], `{"friends":["7","8"],"members":["a","b","c","d"]}`; got != want {
		t.Errorf("result = %s, want %s", got, want)
	}
	var pages int
	for _, e := range rec.events {
		if e.FromScript && e.Type == EventFinished && e.Method == "group.getMembers" {
			pages = e.Pages
		}
	}
	if pages != 3 {
		t.Errorf("the script read %d pages, want 3", pages)
	}

	// A run that stops after the paging replays all of it, calling
	// nothing for it.
	srv2 := newScriptServer(t)
	path = crashDuring(t, w, srv2, "friends.get", 1)
	before := srv2.count("group.getMembers")
	rec = &recorder{}
	res, diags = w.Run(t.Context(), Inputs{}, Options{Connect: srv2.connector(), Observer: rec, State: &StateOptions{Path: path, Resume: true}})
	if res.Status != StatusOK || srv2.count("group.getMembers") != before {
		t.Errorf("resumed run: status %v, %d pages fetched again: %s", res.Status, srv2.count("group.getMembers")-before, diags.Error())
	}
	if got, want := strings.Join(scriptEvents(rec), "|"), "reused group.getMembers|started friends.get|finished friends.get"; got != want {
		t.Errorf("script events = %s, want %s", got, want)
	}
}

// TestScriptGentleStop closes Options.Stop while a script's write is in
// flight: the write finishes and is recorded, the script makes no further
// call, and the run is interrupted, not failed; resumed, the script gets
// the write's result from the journal.
func TestScriptGentleStop(t *testing.T) {
	t.Parallel()
	srv := newScriptServer(t)
	srv.hang.Store(true)
	w := compile(t, testSession+`
script "s" {
  source = <<-EOT
    local topic = okru.call("mediatopic.post", {type = "USER", attachment = {media = {{type = "text", text = "hang"}}}})
    local friends = okru.call("friends.get", {})
    return {topic = topic, friends = friends}
  EOT
}
output "r" { value = script.s.result }
`)
	path := statePath(t)
	stop := make(chan struct{})
	var once sync.Once
	obs := ObserverFunc(func(e Event) {
		if e.FromScript && e.Type == EventStarted && e.Method == "mediatopic.post" {
			once.Do(func() {
				go func() {
					for srv.count("mediatopic.post") == 0 {
						runtime.Gosched()
					}
					close(stop) // the first signal
					srv.release()
				}()
			})
		}
	})
	res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), Observer: obs, Stop: stop, State: &StateOptions{Path: path}})
	if res.Status != StatusInterrupted || diags.HasErrors() {
		t.Fatalf("stopped run: status %v, want interrupted without errors: %s", res.Status, diags.Error())
	}
	if n := srv.count("friends.get"); n != 0 {
		t.Errorf("friends.get called %d times after the stop, want 0", n)
	}
	srv.hang.Store(false)
	res, diags = w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), State: &StateOptions{Path: path, Resume: true}})
	if res.Status != StatusOK || outputsJSON(res)["r"] != `{"friends":["7","8"],"topic":"topic:hang"}` {
		t.Fatalf("resumed run: status %v, result %s: %s", res.Status, outputsJSON(res)["r"], diags.Error())
	}
	if n := srv.posts()["hang"]; n != 1 {
		t.Errorf("posted %d times, want 1", n)
	}
}

// A script's result made from a secret is not stored in clear, though it
// is not the secret as it is, and a resumed run does not reuse it.
func TestScriptSensitiveResultNotStored(t *testing.T) {
	t.Parallel()
	srv := newScriptServer(t)
	w := compile(t, testSession+`
variable "password" {
  type      = string
  sensitive = true
}
script "s" {
  input  = { x = var.password }
  source = "return string.upper(input.x)"
}
output "up" {
  value     = script.s.result
  sensitive = true
}
`)
	path := statePath(t)
	in := Inputs{Variables: vars("password", lang.Sensitive(cty.StringVal("pw-secret-abc123")))}
	if res, diags := w.Run(t.Context(), in, Options{Connect: srv.connector(), State: &StateOptions{Path: path}}); res.Status != StatusOK {
		t.Fatal(diags.Error())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "PW-SECRET-ABC123") || !strings.Contains(string(b), "(sensitive)") {
		t.Fatalf("the state holds the sensitive result:\n%s", b)
	}
	res, diags := w.Run(t.Context(), in, Options{Connect: srv.connector(), State: &StateOptions{Path: path, Resume: true}})
	if res.Status != StatusFailed || !strings.Contains(diags.Error(), "held a secret") {
		t.Errorf("resumed run: status %v, want the script failed: %s", res.Status, diags.Error())
	}
}
