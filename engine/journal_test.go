package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/okru-run/okru-run/engine/state"
	"github.com/okru-run/okru-run/lang"
	"github.com/zclconf/go-cty/cty"
)

// batchSource reads and posts n times: users.getInfo per instance, then
// mediatopic.post (a write) per instance, both fed by call.me.
const batchSource = testSession + `
variable "n" {
  type    = number
  default = 12
}
call "me" {
  method = "users.getCurrentUser"
}
call "read" {
  method   = "users.getInfo"
  for_each = range(var.n)
  params   = { uids = "u${each.key}", fields = call.me.result.name }
}
call "post" {
  method   = "mediatopic.post"
  for_each = range(var.n)
  params = {
    type       = "USER"
    attachment = { media = [{ type = "text", text = "post ${each.key} by ${call.me.result.uid}" }] }
  }
}
output "names" { value = [for r in call.read : r.result[0].first_name if r.result != null] }
output "posts" { value = call.post[*].result }
`

// twelve is the number of instances of each step of batchSource.
var twelve = Inputs{Variables: vars("n", cty.NumberIntVal(12))}

// batchHandle answers like ok.ru: a post answers a topic id made from its
// text, so that a reused result can be told from a repeated call.
func batchHandle(method string, form map[string]string) (any, int) {
	switch method {
	case "users.getCurrentUser":
		return map[string]any{"uid": "42", "name": "Demo"}, 0
	case "users.getInfo":
		return []map[string]any{{"uid": form["uids"], "first_name": "U" + strings.TrimPrefix(form["uids"], "u")}}, 0
	case "mediatopic.post":
		var att struct {
			Media []struct{ Text string } `json:"media"`
		}
		_ = json.Unmarshal([]byte(form["attachment"]), &att)
		return "topic:" + att.Media[0].Text, 0
	}
	return nil, 3
}

// callKey identifies a call to the server by what it is about.
func callKey(c apiCall) string {
	switch c.Method {
	case "users.getInfo":
		return "read " + c.Form["uids"]
	case "mediatopic.post":
		return "post " + c.Form["attachment"]
	}
	return c.Method
}

func countCalls(calls []apiCall) map[string]int {
	m := map[string]int{}
	for _, c := range calls {
		m[callKey(c)]++
	}
	return m
}

func statePath(t *testing.T) string {
	return filepath.Join(t.TempDir(), ".okru-run", "test.hcl.journal")
}

// stopAfter closes Stop once n instances have finished.
type stopAfter struct {
	recorder
	n    int
	once sync.Once
	stop chan struct{}
}

func newStopAfter(n int) *stopAfter { return &stopAfter{n: n, stop: make(chan struct{})} }

func (s *stopAfter) Observe(e Event) {
	s.recorder.Observe(e)
	if e.Type == EventFinished && s.count(EventFinished) >= s.n {
		s.once.Do(func() { close(s.stop) })
	}
}

func TestResumeRepeatsNothingFinished(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, batchHandle)
	w := compile(t, batchSource)
	path := statePath(t)

	first := newStopAfter(9)
	res, diags := w.Run(t.Context(), twelve, Options{Connect: srv.connector(), Parallelism: 3, Observer: first,
		Stop: first.stop, State: &StateOptions{Path: path}})
	if res.Status != StatusInterrupted {
		t.Fatalf("first run: status %v, want interrupted: %s", res.Status, diags.Error())
	}
	firstCalls := len(srv.Calls())
	if firstCalls < 9 || firstCalls >= 25 {
		t.Fatalf("first run made %d calls, want at least 9 and not all 25", firstCalls)
	}
	if first.count(EventStopping) != 1 {
		t.Errorf("stopping events = %d, want 1", first.count(EventStopping))
	}

	rec := &recorder{}
	res, diags = w.Run(t.Context(), twelve, Options{Connect: srv.connector(), Parallelism: 3, Observer: rec,
		State: &StateOptions{Path: path, Resume: true}})
	if res.Status != StatusOK {
		t.Fatalf("resumed run: status %v: %s", res.Status, diags.Error())
	}
	for key, n := range countCalls(srv.Calls()) {
		if n != 1 {
			t.Errorf("%s was called %d times, want once", key, n)
		}
	}
	if len(srv.Calls()) != 25 {
		t.Errorf("calls = %d, want 25 in all", len(srv.Calls()))
	}
	if res.Reused != firstCalls || res.Calls != 25-firstCalls || rec.count(EventReused) != firstCalls {
		t.Errorf("resumed run: %d reused (%d events), %d calls; want %d reused and %d calls",
			res.Reused, rec.count(EventReused), res.Calls, firstCalls, 25-firstCalls)
	}
	// Recorded results feed the outputs as if they had just been called.
	out := outputsJSON(res)
	if !strings.Contains(out["names"], `"U0","U1"`) || !strings.Contains(out["posts"], `"topic:post 0 by 42"`) {
		t.Errorf("outputs = %v", out)
	}
	states := 0
	for _, e := range rec.events {
		if e.Type == EventState {
			states++
			if !e.Resumed || e.Recorded < firstCalls || e.Path != path {
				t.Errorf("state event = %+v", e)
			}
		}
	}
	if states != 1 {
		t.Errorf("state events = %d, want 1", states)
	}

	// The run ended with everything done: a new run starts over, without
	// -resume, and calls everything again.
	res, diags = w.Run(t.Context(), twelve, Options{Connect: srv.connector(), State: &StateOptions{Path: path}})
	if res.Status != StatusOK || res.Reused != 0 || res.Calls != 25 {
		t.Fatalf("run after a finished one: status %v, %d reused, %d calls: %s", res.Status, res.Reused, res.Calls, diags.Error())
	}
}

// A write sent when the run dies, before its answer is recorded, has an
// unknown outcome: the resumed run reports it and does not send it, unless
// asked to.
func TestResumeOutcomeUnknown(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, batchHandle)
	srv.mu.Lock()
	srv.barrier = 1000 // every call waits: only cancellation ends them
	srv.mu.Unlock()
	w := compile(t, testSession+`
call "post" {
  method   = "mediatopic.post"
  for_each = toset(["a", "b", "c"])
  params   = { type = "USER", attachment = { media = [{ type = "text", text = each.key }] } }
}
call "after" {
  method = "users.getInfo"
  params = { uids = join(",", [for p in call.post : p.result]), fields = "name" }
}
`)
	path := statePath(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var mu sync.Mutex
	started := 0
	obs := ObserverFunc(func(e Event) {
		if e.Type == EventStarted {
			mu.Lock()
			started++
			if started == 3 {
				go func() {
					// Cancel once the three requests reached the server.
					for len(srv.Calls()) < 3 {
						runtime.Gosched()
					}
					cancel()
				}()
			}
			mu.Unlock()
		}
	})
	res, _ := w.Run(ctx, Inputs{}, Options{Connect: srv.connector(), Parallelism: 3, Observer: obs, State: &StateOptions{Path: path}})
	if res.Status != StatusInterrupted {
		t.Fatalf("first run: status %v, want interrupted", res.Status)
	}
	srv.mu.Lock()
	srv.barrier = 0
	srv.mu.Unlock()

	rec := &recorder{}
	res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), Observer: rec, State: &StateOptions{Path: path, Resume: true}})
	if res.Status != StatusFailed || res.Unknown != 3 || rec.count(EventUnknown) != 3 {
		t.Fatalf("resumed run: status %v, %d unknown (%d events); want failed with 3", res.Status, res.Unknown, rec.count(EventUnknown))
	}
	if n := len(srv.Calls()); n != 3 {
		t.Errorf("the resumed run sent %d calls, want none", n-3)
	}
	if !strings.Contains(diags.Error(), "Outcome unknown") || !strings.Contains(diags.Error(), `call.post["a"]`) ||
		!strings.Contains(diags.Error(), "-retry-unknown") {
		t.Errorf("diagnostics do not explain the unknown outcome: %s", diags.Error())
	}
	for _, e := range rec.events {
		if e.Type == EventSkipped && e.Step.Name == "after" && !strings.Contains(e.Reason, "call.post") {
			t.Errorf("after skipped for %q", e.Reason)
		}
	}
	// The state shows what was sent, for the user to check.
	b, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(b), `\"text\":\"a\"`) && !strings.Contains(string(b), `"text":"a"`) {
		t.Errorf("the state does not hold the parameters of the unknown writes: %v\n%s", err, b)
	}

	res, diags = w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(),
		State: &StateOptions{Path: path, Resume: true, RetryUnknown: true}})
	if res.Status != StatusOK || res.Calls != 4 {
		t.Fatalf("retry-unknown run: status %v, %d calls: %s", res.Status, res.Calls, diags.Error())
	}
}

// A write the server refused did not take effect: a resumed run sends it
// again, and reuses the others.
func TestResumeResendsRefusedWrite(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	refuse := true
	srv := newAPIServer(t, func(method string, form map[string]string) (any, int) {
		mu.Lock()
		defer mu.Unlock()
		if refuse && strings.Contains(form["attachment"], "post 2 ") {
			return nil, 100
		}
		return batchHandle(method, form)
	})
	w := compile(t, batchSource)
	path := statePath(t)
	vs := Inputs{Variables: vars("n", cty.NumberIntVal(4))}
	res, _ := w.Run(t.Context(), vs, Options{Connect: srv.connector(), ContinueOnError: true, State: &StateOptions{Path: path}})
	if res.Status != StatusFailed || res.Failures != 1 {
		t.Fatalf("first run: status %v, %d failures; want one failure", res.Status, res.Failures)
	}
	mu.Lock()
	refuse = false
	mu.Unlock()
	res, diags := w.Run(t.Context(), vs, Options{Connect: srv.connector(), State: &StateOptions{Path: path, Resume: true}})
	if res.Status != StatusOK || res.Calls != 1 {
		t.Fatalf("resumed run: status %v, %d calls; want only the refused post: %s", res.Status, res.Calls, diags.Error())
	}
	counts := countCalls(srv.Calls())
	for key, n := range counts {
		want := 1
		if strings.Contains(key, "post 2 ") {
			want = 2
		}
		if n != want {
			t.Errorf("%s called %d times, want %d", key, n, want)
		}
	}
}

// Parameters can change under an unchanged workflow (env(), results of
// reads repeated by the resumed run): a write recorded with other
// parameters is refused, a read is repeated.
func TestResumeChangedParameters(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, batchHandle)
	w := compile(t, testSession+`
call "read" {
  method   = "users.getInfo"
  for_each = range(2)
  params   = { uids = "u${each.key}", fields = env("FIELDS") }
}
call "post" {
  method   = "mediatopic.post"
  for_each = range(2)
  params   = { type = "USER", attachment = { media = [{ type = "text", text = "${env("MSG")} ${each.key}" }] } }
}
`)
	path := statePath(t)
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	res, diags := w.Run(t.Context(), Inputs{Getenv: env(map[string]string{"MSG": "hello", "FIELDS": "a"})},
		Options{Connect: srv.connector(), State: &StateOptions{Path: path}})
	if res.Status != StatusOK {
		t.Fatal(diags.Error())
	}
	// The finished run would start over without -resume; with it, every
	// instance is checked against its record.
	res, diags = w.Run(t.Context(), Inputs{Getenv: env(map[string]string{"MSG": "bye", "FIELDS": "b"})},
		Options{Connect: srv.connector(), ContinueOnError: true, State: &StateOptions{Path: path, Resume: true}})
	if res.Status != StatusFailed || res.Failures != 2 || res.Calls != 2 {
		t.Fatalf("status %v, %d failures, %d calls; want the 2 posts refused and the 2 reads repeated: %s",
			res.Status, res.Failures, res.Calls, diags.Error())
	}
	if !strings.Contains(diags.Error(), "Changed since it was sent") || !strings.Contains(diags.Error(), "call.post[") {
		t.Errorf("diagnostics = %s", diags.Error())
	}
	for key, n := range countCalls(srv.Calls()) {
		if strings.HasPrefix(key, "post") && n != 1 {
			t.Errorf("%s sent %d times", key, n)
		}
	}
}

func TestResumeRefusesAnotherRun(t *testing.T) {
	t.Parallel()
	changed := strings.Replace(batchSource, `fields = call.me.result.name`, `fields = "first_name"`, 1)
	tests := []struct {
		name   string
		src    string
		n      int64
		shard  Shard
		reason string
	}{
		{"workflow changed", changed, 12, Shard{}, "the workflow files changed"},
		{"variables changed", batchSource, 13, Shard{}, "the variables have other values"},
		{"shard changed", batchSource, 12, Shard{Index: 1, Count: 2}, "it was not sharded and this run is shard 1/2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newAPIServer(t, batchHandle)
			path := statePath(t)
			first := newStopAfter(4)
			in := Inputs{Variables: vars("n", cty.NumberIntVal(12))}
			res, _ := compile(t, batchSource).Run(t.Context(), in, Options{Connect: srv.connector(), Parallelism: 1,
				Observer: first, Stop: first.stop, State: &StateOptions{Path: path}})
			if res.Status != StatusInterrupted {
				t.Fatalf("first run: %v", res.Status)
			}
			sent := len(srv.Calls())
			in = Inputs{Variables: vars("n", cty.NumberIntVal(tt.n))}
			w := compile(t, tt.src)
			res, diags := w.Run(t.Context(), in, Options{Connect: srv.connector(), Shard: tt.shard,
				State: &StateOptions{Path: path, Resume: true}})
			if res.Status != StatusInvalid || !strings.Contains(diags.Error(), tt.reason) || !strings.Contains(diags.Error(), "-fresh") {
				t.Fatalf("status %v, diagnostics %s; want a refusal saying %q", res.Status, diags.Error(), tt.reason)
			}
			if len(srv.Calls()) != sent {
				t.Errorf("a refused resume made %d calls", len(srv.Calls())-sent)
			}
			// -fresh starts over: everything is called again.
			res, diags = w.Run(t.Context(), in, Options{Connect: srv.connector(), Shard: tt.shard,
				State: &StateOptions{Path: path, Fresh: true}})
			if res.Status != StatusOK || res.Reused != 0 {
				t.Fatalf("-fresh: status %v, %d reused: %s", res.Status, res.Reused, diags.Error())
			}
		})
	}
}

func TestUnfinishedRunNeedsResumeOrFresh(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		src     string
		stopAt  int // finished instances
		refused bool
	}{
		// One call at a time: call.me, the 12 reads, then 3 posts.
		{"writes sent", batchSource, 16, true},
		{"reads only", testSession + `
call "read" {
  method   = "users.getInfo"
  for_each = range(12)
  params   = { uids = "u${each.key}", fields = "name" }
}
`, 8, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newAPIServer(t, batchHandle)
			w := compile(t, tt.src)
			path := statePath(t)
			first := newStopAfter(tt.stopAt)
			if res, _ := w.Run(t.Context(), twelve, Options{Connect: srv.connector(), Parallelism: 1, Observer: first,
				Stop: first.stop, State: &StateOptions{Path: path}}); res.Status != StatusInterrupted {
				t.Fatalf("first run: %v", res.Status)
			}
			res, diags := w.Run(t.Context(), twelve, Options{Connect: srv.connector(), State: &StateOptions{Path: path}})
			if tt.refused {
				if res.Status != StatusInvalid || !strings.Contains(diags.Error(), "-resume") || !strings.Contains(diags.Error(), "did not finish") {
					t.Fatalf("status %v: %s; want a refusal pointing at -resume", res.Status, diags.Error())
				}
				return
			}
			if res.Status != StatusOK || res.Reused != 0 {
				t.Fatalf("status %v, %d reused: %s; want a fresh run", res.Status, res.Reused, diags.Error())
			}
		})
	}
}

// The journal holds results but no secret: neither the session's
// credentials (here echoed back by the server) nor sensitive variables.
func TestStateHoldsNoSecrets(t *testing.T) {
	t.Parallel()
	const password = "pw-SECRET-4b3a2c1d"
	srv := newAPIServer(t, func(method string, form map[string]string) (any, int) {
		switch method {
		case "users.getInfo":
			// A server that echoes what it got, credentials included.
			if form["uids"] == "1" {
				return map[string]any{"fields": form["fields"], "token": "T0KEN-access-token-value"}, 0
			}
			return map[string]any{"fields": form["fields"]}, 0
		case "mediatopic.post":
			return "topic-" + form["type"], 0
		}
		return batchHandle(method, form)
	})
	w := compile(t, testSession+`
variable "password" {
  type      = string
  sensitive = true
}
call "echo" {
  method = "users.getInfo"
  params = { uids = "1", fields = var.password }
}
call "plain" {
  method = "users.getInfo"
  params = { uids = "2", fields = "name" }
}
call "post" {
  method = "mediatopic.post"
  params = { type = "USER", attachment = { media = [{ type = "text", text = var.password }] } }
}
`)
	path := statePath(t)
	in := Inputs{Variables: vars("password", lang.Sensitive(cty.StringVal(password)))}
	if res, diags := w.Run(t.Context(), in, Options{Connect: srv.connector(), State: &StateOptions{Path: path}}); res.Status != StatusOK {
		t.Fatal(diags.Error())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for what, secret := range map[string]string{"password": password, "access token": "T0KEN-access-token-value",
		"app secret key": "S3CRET-app-secret-key"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("the state holds the %s:\n%s", what, b)
		}
	}
	if !strings.Contains(string(b), "(sensitive)") || !strings.Contains(string(b), "[REDACTED]") {
		t.Errorf("the state does not show where values were hidden:\n%s", b)
	}
	// A read stored without a secret it held is repeated by a resumed run:
	// its record is not its answer. The others are reused.
	before := len(srv.Calls())
	res, diags := w.Run(t.Context(), in, Options{Connect: srv.connector(), State: &StateOptions{Path: path, Resume: true}})
	if res.Status != StatusOK || res.Calls != 1 || res.Reused != 2 || len(srv.Calls()) != before+1 {
		t.Errorf("resumed run: status %v, %d calls, %d reused; want the echo repeated only: %s", res.Status, res.Calls, res.Reused, diags.Error())
	}
}

func TestStateLocked(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, batchHandle)
	srv.mu.Lock()
	srv.barrier = 1000
	srv.mu.Unlock()
	w := compile(t, batchSource)
	path := statePath(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	started := make(chan struct{})
	var once sync.Once
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx, twelve, Options{Connect: srv.connector(), State: &StateOptions{Path: path},
			Observer: ObserverFunc(func(e Event) {
				if e.Type == EventStarted {
					once.Do(func() { close(started) })
				}
			})})
	}()
	<-started
	res, diags := w.Run(t.Context(), twelve, Options{Connect: srv.connector(), State: &StateOptions{Path: path, Resume: true}})
	want := fmt.Sprintf("in use by another okru-run process (pid %d)", os.Getpid())
	if res.Status != StatusInvalid || !strings.Contains(diags.Error(), path) || !strings.Contains(diags.Error(), want) {
		t.Fatalf("second run: status %v, %s; want a refusal naming the state and %q", res.Status, diags.Error(), want)
	}
	cancel()
	<-done
}

func TestShardsCoverEveryInstanceOnce(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, batchHandle)
	w := compile(t, testSession+`
call "me" {
  method = "users.getCurrentUser"
}
call "list" {
  method   = "users.getInfo"
  for_each = [for i in range(60) : "l${i}"]
  params   = { uids = each.value, fields = call.me.result.uid }
}
call "map" {
  method   = "users.getInfo"
  for_each = { for i in range(30) : "k${i}" => i }
  params   = { uids = "m${each.value}", fields = "name" }
}
call "summary" {
  method     = "mediatopic.post"
  params     = { type = "USER", attachment = { media = [{ type = "text", text = "done" }] } }
  depends_on = [call.list]
}
call "after_summary" {
  method = "users.getInfo"
  params = { uids = call.summary.result, fields = "name" }
}
output "mine" { value = length([for c in call.list : c if c.result != null]) }
`)
	const shards = 3
	total := 0
	for i := 1; i <= shards; i++ {
		rec := &recorder{}
		res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), Observer: rec,
			Shard: Shard{Index: i, Count: shards}, State: &StateOptions{Path: statePath(t)}})
		if res.Status != StatusOK {
			t.Fatalf("shard %d: status %v: %s", i, res.Status, diags.Error())
		}
		for _, e := range rec.events {
			if e.Type == EventExpanded {
				total += e.Instances
				if e.Total != 60 && e.Total != 30 {
					t.Errorf("shard %d: %s expanded with total %d", i, e.Step, e.Total)
				}
			}
			if e.Type == EventSkipped && e.Step.Name == "summary" && (i == 1 || !strings.Contains(e.Reason, "shard 1 of 3 only")) {
				t.Errorf("shard %d: summary skipped: %s", i, e.Reason)
			}
		}
		if i == 1 && len(res.Outputs) != 1 {
			t.Errorf("shard 1 outputs = %v", res.Outputs)
		}
	}
	if total != 90 {
		t.Errorf("the shards expanded %d instances in all, want 90", total)
	}
	counts := countCalls(srv.Calls())
	for i := range 60 {
		if n := counts[fmt.Sprintf("read l%d", i)]; n != 1 {
			t.Errorf("list instance l%d was called %d times across the shards, want once", i, n)
		}
	}
	for i := range 30 {
		if n := counts[fmt.Sprintf("read m%d", i)]; n != 1 {
			t.Errorf("map instance k%d was called %d times across the shards, want once", i, n)
		}
	}
	if counts["users.getCurrentUser"] != shards {
		t.Errorf("the read outside for_each ran %d times, want once per shard", counts["users.getCurrentUser"])
	}
	if counts[`post {"media":[{"text":"done","type":"text"}]}`] != 1 {
		t.Errorf("the write outside for_each ran %d times, want once in all: %v", counts[`post {"media":[{"text":"done","type":"text"}]}`], counts)
	}
}

func TestParseShard(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Shard
		err  string
	}{
		{"1/1", Shard{1, 1}, ""},
		{"2/4", Shard{2, 4}, ""},
		{" 3 / 3 ", Shard{3, 3}, ""},
		{"0/4", Shard{}, "out of range"},
		{"5/4", Shard{}, "out of range"},
		{"1/0", Shard{}, "out of range"},
		{"2", Shard{}, "want I/N"},
		{"a/b", Shard{}, "want I/N"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseShard(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseShard(%q) = %v, %v; want an error with %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseShard(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
	if s := (Shard{2, 4}).String(); s != "2/4" {
		t.Errorf("String = %q", s)
	}
	if s := (Shard{1, 1}).String(); s != "" {
		t.Errorf("one shard of one is not sharded, String = %q", s)
	}
}

// Every shard of every instance is found by exactly one shard, however
// many there are.
func TestShardOfPartitions(t *testing.T) {
	t.Parallel()
	for _, count := range []int{1, 2, 3, 7, 16} {
		per := make([]int, count+1)
		for i := range 2000 {
			id := ShardID(cty.NumberIntVal(int64(i)), cty.StringVal(fmt.Sprintf("item-%d", i)))
			owners := 0
			for s := 1; s <= count; s++ {
				if (Shard{Index: s, Count: count}).Of(id) == s {
					owners++
					per[s]++
				}
			}
			if owners != 1 {
				t.Fatalf("%d shards: %s is owned by %d shards", count, id, owners)
			}
		}
		for s := 1; s <= count; s++ {
			if count > 1 && (per[s] < 2000/count/2 || per[s] > 2000/count*2) {
				t.Errorf("%d shards: shard %d got %d of 2000 instances", count, s, per[s])
			}
		}
	}
}

// Stop lets the calls in flight finish and starts nothing more.
func TestStopLetsCallsInFlightFinish(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, batchHandle)
	srv.mu.Lock()
	srv.barrier = 4 // the first four calls wait until all four are in flight
	srv.mu.Unlock()
	w := compile(t, testSession+`
call "read" {
  method   = "users.getInfo"
  for_each = range(50)
  params   = { uids = "u${each.key}", fields = "name" }
}
`)
	stop := make(chan struct{})
	var once sync.Once
	rec := &recorder{}
	obs := ObserverFunc(func(e Event) {
		rec.Observe(e)
		if e.Type == EventStarted && rec.count(EventStarted) == 4 {
			once.Do(func() { close(stop) })
		}
	})
	res, _ := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), Parallelism: 4, Observer: obs, Stop: stop})
	if res.Status != StatusInterrupted {
		t.Fatalf("status %v, want interrupted", res.Status)
	}
	if n := len(srv.Calls()); n != 4 || rec.count(EventFinished) != 4 {
		t.Errorf("%d calls, %d finished; want the 4 in flight to finish and no more", n, rec.count(EventFinished))
	}
	for _, e := range rec.events {
		if e.Type == EventStopping && e.InFlight != 4 {
			t.Errorf("stopping with %d in flight, want 4", e.InFlight)
		}
	}
}

func TestProgressEvents(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, batchHandle)
	srv.mu.Lock()
	srv.barrier = 1000
	srv.mu.Unlock()
	w := compile(t, testSession+`
call "read" {
  method   = "users.getInfo"
  for_each = range(10)
  params   = { uids = "u${each.key}", fields = "name" }
}
`)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var got []StepProgress
	obs := ObserverFunc(func(e Event) {
		if e.Type == EventProgress && got == nil {
			got = e.Progress
			cancel()
		}
	})
	w.Run(ctx, Inputs{}, Options{Connect: srv.connector(), Parallelism: 2, Observer: obs, ProgressEvery: 1})
	if len(got) != 1 || got[0].Step.Name != "read" || got[0].Total != 10 || got[0].Remaining() != 10 || got[0].Method != "users.getInfo" {
		t.Fatalf("progress = %+v", got)
	}
}

func TestResultsNeeded(t *testing.T) {
	t.Parallel()
	w := compile(t, testSession+`
call "used" {
  method = "users.getCurrentUser"
}
call "waited_for" {
  method = "users.getCurrentUser"
}
call "unused" {
  method   = "users.getInfo"
  for_each = range(3)
  params   = { uids = call.used.result.uid, fields = "name" }
  depends_on = [call.waited_for]
}
call "in_output" {
  method = "users.getCurrentUser"
}
output "x" { value = call.in_output.result }
`)
	needed := w.resultsNeeded(false)
	want := map[string]bool{"used": true, "waited_for": false, "unused": false, "in_output": true}
	for _, n := range w.nodes {
		if n.step != nil && needed[n.index] != want[n.addr.Name] {
			t.Errorf("%s: needed = %v, want %v", n.addr, needed[n.index], want[n.addr.Name])
		}
	}
}

// A paginated read is recorded merged and reused as such.
func TestResumeReusesPagedResult(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, func(method string, form map[string]string) (any, int) {
		if method != "group.getMembers" {
			return batchHandle(method, form)
		}
		if form["anchor"] == "" {
			return map[string]any{"members": []map[string]string{{"userId": "1"}}, "anchor": "p1", "has_more": true}, 0
		}
		return map[string]any{"members": []map[string]string{{"userId": "2"}}, "anchor": "p2", "has_more": false}, 0
	})
	w := compile(t, testSession+`
call "members" {
  method   = "group.getMembers"
  params   = { uid = "g1", count = 1 }
  paginate = true
}
call "post" {
  method   = "mediatopic.post"
  for_each = toset(call.members.result.members[*].userId)
  params   = { type = "USER", attachment = { media = [{ type = "text", text = "hi ${each.key}" }] } }
}
output "ids" { value = call.members.result.members[*].userId }
`)
	path := statePath(t)
	first := newStopAfter(1)
	if res, _ := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), Parallelism: 1, Observer: first, Stop: first.stop,
		State: &StateOptions{Path: path}}); res.Status != StatusInterrupted {
		t.Fatalf("first run: %v", res.Status)
	}
	res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), State: &StateOptions{Path: path, Resume: true}})
	if res.Status != StatusOK || res.Reused != 1 || res.Calls != 2 {
		t.Fatalf("resumed: status %v, %d reused, %d calls: %s", res.Status, res.Reused, res.Calls, diags.Error())
	}
	if got := outputsJSON(res)["ids"]; got != `["1","2"]` {
		t.Errorf("ids = %s", got)
	}
	if n := len(srv.Calls()); n != 4 {
		t.Errorf("calls = %d, want 2 pages and 2 posts", n)
	}
}

// The journal of a run is the state package's: check what the engine
// wrote there for a write.
func TestJournalRecordsOfAWrite(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, batchHandle)
	w := compile(t, batchSource)
	path := statePath(t)
	in := Inputs{Variables: vars("n", cty.NumberIntVal(1))}
	if res, diags := w.Run(t.Context(), in, Options{Connect: srv.connector(), State: &StateOptions{Path: path}}); res.Status != StatusOK {
		t.Fatal(diags.Error())
	}
	st, err := state.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if !st.Ended() || st.Writes() != 1 {
		t.Errorf("ended %v, writes %d; want an ended run with one write", st.Ended(), st.Writes())
	}
	e, ok := st.Lookup("call.post[0]")
	if !ok || e.Kind != state.KindDone || !e.Write || e.Method != "mediatopic.post" {
		t.Fatalf("call.post[0] = %+v, %v", e, ok)
	}
	if r, err := st.Result(e); err != nil || string(r) != `"topic:post 0 by 42"` {
		t.Errorf("result = %s, %v", r, err)
	}
	if e, ok := st.Lookup("call.read[0]"); !ok || e.Write {
		t.Errorf("call.read[0] = %+v, %v; want a read", e, ok)
	}
}

// A write whose recorded result held a secret cannot be reused as data,
// nor sent again: a resumed run fails it and says why.
func TestResumeRefusesRedactedWriteResult(t *testing.T) {
	t.Parallel()
	const password = "pw-SECRET-9f8e7d6c"
	srv := newAPIServer(t, batchHandle) // a post answers "topic:" and its text
	w := compile(t, testSession+`
variable "password" {
  type      = string
  sensitive = true
}
call "post" {
  method = "mediatopic.post"
  params = { type = "USER", attachment = { media = [{ type = "text", text = var.password }] } }
}
call "after" {
  method = "users.getInfo"
  params = { uids = "1", fields = call.post.result }
}
`)
	path := statePath(t)
	in := Inputs{Variables: vars("password", lang.Sensitive(cty.StringVal(password)))}
	if res, diags := w.Run(t.Context(), in, Options{Connect: srv.connector(), State: &StateOptions{Path: path}}); res.Status != StatusOK {
		t.Fatal(diags.Error())
	}
	before := countCalls(srv.Calls())
	res, diags := w.Run(t.Context(), in, Options{Connect: srv.connector(), State: &StateOptions{Path: path, Resume: true}})
	if res.Status != StatusFailed {
		t.Fatalf("resumed run: status %v, want failed: %s", res.Status, diags.Error())
	}
	after := countCalls(srv.Calls())
	for _, c := range srv.Calls() {
		if c.Method == "users.getInfo" && strings.Contains(c.Form["fields"], "[REDACTED]") {
			t.Errorf("a later step got the redacted record as data: %v", c.Form)
		}
	}
	for k, n := range after {
		if strings.HasPrefix(k, "post ") && n != before[k] {
			t.Errorf("the write was sent again")
		}
	}
	if !strings.Contains(diags.Error(), "held a secret") || !strings.Contains(diags.Error(), "-fresh") {
		t.Errorf("diagnostics do not explain: %s", diags.Error())
	}
}

// The state's header holds the variables' hash salted with a random salt
// of its own, never a plain hash a guess could be checked against; a
// resumed run compares by that salt. A sensitive value is not in it at
// all, salted or not (issue 11: a 6-digit PIN was found from the salted
// hash in under a second): a resumed run with another sensitive value is
// not told apart, while another non-sensitive value is refused.
func TestStateVarsHashSalted(t *testing.T) {
	t.Parallel()
	const password = "pw-123456"
	srv := newAPIServer(t, batchHandle)
	w := compile(t, testSession+`
variable "password" {
  type      = string
  sensitive = true
}
variable "fields" {
  type = string
}
call "read" {
  method = "users.getInfo"
  params = { uids = "1", fields = var.fields, x = var.password }
}
`)
	inputs := func(password, fields string) Inputs {
		v := vars("password", lang.Sensitive(cty.StringVal(password)))
		v["fields"] = cty.StringVal(fields)
		return Inputs{Variables: v}
	}
	in := inputs(password, "name")
	salts := map[string]bool{}
	for range 2 {
		path := statePath(t)
		if res, diags := w.Run(t.Context(), in, Options{Connect: srv.connector(), State: &StateOptions{Path: path}}); res.Status != StatusOK {
			t.Fatal(diags.Error())
		}
		st, err := state.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		h, _ := st.Header()
		st.Close()
		b, _ := os.ReadFile(path)
		if h.Salt == "" || strings.Contains(string(b), password) {
			t.Fatalf("the header has no salt, or the journal holds the password:\n%s", b)
		}
		// The digest is the same whatever the password: nothing to guess.
		for _, guess := range []string{password, "000000", "other"} {
			if g := w.fingerprint(inputs(guess, "name"), Shard{}, "", h.Salt); g.Vars != h.Vars {
				t.Fatalf("the variables' digest depends on the sensitive value (guess %q)", guess)
			}
		}
		salts[h.Salt] = true
		res, diags := w.Run(t.Context(), in, Options{Connect: srv.connector(), State: &StateOptions{Path: path, Resume: true}})
		if res.Status != StatusOK || res.Reused != 1 {
			t.Fatalf("resumed run: status %v, %d reused: %s", res.Status, res.Reused, diags.Error())
		}
		if res, _ := w.Run(t.Context(), inputs(password, "other"), Options{Connect: srv.connector(), State: &StateOptions{Path: path, Resume: true}}); res.Status == StatusOK {
			t.Fatal("a run with another non-sensitive value resumed the recorded one")
		}
		if res, diags := w.Run(t.Context(), inputs("rotated", "name"), Options{Connect: srv.connector(), State: &StateOptions{Path: path, Resume: true}}); res.Status != StatusOK || res.Reused != 1 {
			t.Fatalf("a run with a rotated sensitive value: status %v, %d reused: %s", res.Status, res.Reused, diags.Error())
		}
	}
	if len(salts) != 2 {
		t.Error("two runs have the same salt")
	}
}
