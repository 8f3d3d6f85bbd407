package engine

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/okru-run/okru-run/lang"
	"github.com/zclconf/go-cty/cty"
)

func TestRunChainsResults(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, func(method string, form map[string]string) (any, int) {
		switch method {
		case "users.getCurrentUser":
			return map[string]any{"uid": "12345678901234567890", "name": "Demo"}, 0
		case "friends.get":
			return []string{"1", "2", "3"}, 0
		case "users.getInfo":
			var out []map[string]any
			for _, id := range strings.Split(form["uids"], ",") {
				out = append(out, map[string]any{"uid": id, "first_name": "U" + id})
			}
			return out, 0
		}
		return nil, 3
	})
	w := compile(t, testSession+`
call "me" {
  method = "users.getCurrentUser"
}
call "friends" {
  method = "friends.get"
  params = { uid = call.me.result.uid }
}
call "info" {
  method   = "users.getInfo"
  for_each = chunklist(call.friends.result, 2)
  params   = { uids = each.value, fields = "first_name" }
}
output "me"    { value = call.me.result.uid }
output "names" { value = flatten(call.info[*].result)[*].first_name }
`)
	rec := &recorder{}
	res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), Observer: rec})
	if diags.HasErrors() || res.Status != StatusOK {
		t.Fatalf("run: status %v: %s", res.Status, diags.Error())
	}
	if got := srv.Calls(); len(got) != 4 {
		t.Fatalf("calls = %d, want 4", len(got))
	}
	for _, c := range srv.Calls() {
		if c.Method == "friends.get" && c.Form["uid"] != "12345678901234567890" {
			t.Errorf("friends.get uid = %q, want the big id unchanged", c.Form["uid"])
		}
	}
	want := map[string]string{
		"me":    `"12345678901234567890"`,
		"names": `["U1","U2","U3"]`,
	}
	for _, o := range res.Outputs {
		if got := string(lang.DisplayJSON(o.Value)); got != want[o.Name] {
			t.Errorf("output %s = %s, want %s", o.Name, got, want[o.Name])
		}
	}
	if n := rec.count(EventFinished); n != 4 {
		t.Errorf("finished events = %d, want 4", n)
	}
	if n := rec.count(EventOutputs); n != 1 {
		t.Errorf("outputs events = %d, want 1", n)
	}
}

// A 1,000-instance for_each runs in parallel, binds each correctly in every
// instance and keeps results in order.
func TestRunForEachThousandInOrder(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, func(method string, form map[string]string) (any, int) {
		return map[string]any{"uid": form["uids"], "echo": form["fields"]}, 0
	})
	srv.barrier = 4 // the first four calls wait until four are in flight
	w := compile(t, testSession+`
variable "n" { type = number }
call "info" {
  method   = "users.getInfo"
  for_each = [for i in range(var.n) : format("id%04d", i)]
  params   = { uids = each.value, fields = "k${each.key}" }
}
output "uids" { value = call.info[*].result.uid }
output "keys" { value = [for c in call.info : c.result.echo] }
output "third" { value = call.info[3].result.uid }
`)
	res, diags := w.Run(t.Context(), Inputs{Variables: vars("n", cty.NumberIntVal(1000))},
		Options{Connect: srv.connector(), Parallelism: 4})
	if diags.HasErrors() || res.Status != StatusOK {
		t.Fatalf("run: %s", diags.Error())
	}
	if len(srv.Calls()) != 1000 || res.Calls != 1000 {
		t.Fatalf("calls = %d (result says %d), want 1000", len(srv.Calls()), res.Calls)
	}
	if srv.maxInflight < 4 {
		t.Errorf("at most %d calls were in flight, want 4", srv.maxInflight)
	}
	if srv.maxInflight > 4 {
		t.Errorf("%d calls were in flight, more than -parallelism 4", srv.maxInflight)
	}
	outs := map[string]cty.Value{}
	for _, o := range res.Outputs {
		outs[o.Name] = o.Value
	}
	uids := outs["uids"].AsValueSlice()
	keys := outs["keys"].AsValueSlice()
	if len(uids) != 1000 || len(keys) != 1000 {
		t.Fatalf("got %d uids and %d keys, want 1000", len(uids), len(keys))
	}
	for i := range 1000 {
		if got, want := uids[i].AsString(), fmt.Sprintf("id%04d", i); got != want {
			t.Fatalf("uids[%d] = %s, want %s", i, got, want)
		}
		if got, want := keys[i].AsString(), "k"+strconv.Itoa(i); got != want {
			t.Fatalf("keys[%d] = %s, want %s", i, got, want)
		}
	}
	if got := outs["third"].AsString(); got != "id0003" {
		t.Errorf("call.info[3] = %s, want id0003", got)
	}
}

func TestRunPaginateMergesPages(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, func(method string, form map[string]string) (any, int) {
		page := 0
		if form["anchor"] != "" {
			page, _ = strconv.Atoi(strings.TrimPrefix(form["anchor"], "p"))
		}
		members := []map[string]string{{"userId": fmt.Sprintf("u%d", 2*page)}, {"userId": fmt.Sprintf("u%d", 2*page+1)}}
		return map[string]any{"members": members, "anchor": fmt.Sprintf("p%d", page+1), "has_more": page < 2}, 0
	})
	w := compile(t, testSession+`
call "members" {
  method   = "group.getMembers"
  params   = { uid = "g1", count = 2 }
  paginate = true
}
output "ids"      { value = call.members.result.members[*].userId }
output "has_more" { value = call.members.result.has_more }
`)
	rec := &recorder{}
	res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), Observer: rec})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if got := string(lang.DisplayJSON(res.Outputs[0].Value)); got != `["u0","u1","u2","u3","u4","u5"]` {
		t.Errorf("ids = %s", got)
	}
	if res.Outputs[1].Value.True() {
		t.Errorf("has_more = true, want the last page's false")
	}
	calls := srv.Calls()
	if len(calls) != 3 || calls[0].Form["direction"] != "FORWARD" || calls[2].Form["anchor"] != "p2" {
		t.Errorf("calls = %+v", calls)
	}
	for _, e := range rec.events {
		if e.Type == EventFinished && e.Pages != 3 {
			t.Errorf("finished with %d pages, want 3", e.Pages)
		}
	}
}

func TestRunFailures(t *testing.T) {
	t.Parallel()
	const src = testSession + `
call "bad" {
  method = "users.getInfo"
  params = { uids = "bad", fields = "name" }
}
call "after_bad" {
  method = "users.getInfo"
  params = { uids = call.bad.result[0].uid, fields = "name" }
}
call "good" {
  method = "users.getCurrentUser"
}
output "good" { value = call.good.result.uid }
output "after" { value = call.after_bad.result }
`
	handle := func(method string, form map[string]string) (any, int) {
		if form["uids"] == "bad" {
			return nil, 100
		}
		return map[string]any{"uid": "42"}, 0
	}
	tests := []struct {
		name            string
		continueOnError bool
		wantCalls       int
		wantOutputs     int
	}{
		// One call at a time, in declaration order: the failure stops
		// everything after it.
		{"stop at the first failure", false, 1, 0},
		{"continue on error", true, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newAPIServer(t, handle)
			rec := &recorder{}
			res, diags := compile(t, src).Run(t.Context(), Inputs{},
				Options{Connect: srv.connector(), Parallelism: 1, ContinueOnError: tt.continueOnError, Observer: rec})
			if res.Status != StatusFailed || !diags.HasErrors() {
				t.Fatalf("status = %v, diags = %v; want a failure", res.Status, diags)
			}
			if !strings.Contains(diags.Error(), "call.bad (users.getInfo): PARAM (100)") {
				t.Errorf("diagnostics = %s", diags.Error())
			}
			if got := len(srv.Calls()); got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
			if len(res.Outputs) != tt.wantOutputs {
				t.Errorf("outputs = %v, want %d", res.Outputs, tt.wantOutputs)
			}
			if rec.count(EventFailed) != 1 {
				t.Errorf("failed events = %d, want 1", rec.count(EventFailed))
			}
		})
	}
}

// TestRunSkipsOnceForManyFailures: with ContinueOnError, a step that uses
// the results of two failed steps, or of a failed step twice over (c,
// then d through c), is skipped once, whatever the order of the failures.
func TestRunSkipsOnceForManyFailures(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, func(string, map[string]string) (any, int) { return nil, 100 })
	w := compile(t, testSession+`
call "a" { method = "users.getCurrentUser" }
call "b" { method = "users.getCurrentUser" }
call "c" {
  method = "users.getInfo"
  params = { uids = "${call.a.result.uid},${call.b.result.uid}", fields = "name" }
}
call "d" {
  method = "users.getInfo"
  params = { uids = call.c.result[0].uid, fields = call.a.result.uid }
}
`)
	rec := &recorder{}
	res, _ := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), ContinueOnError: true, Observer: rec})
	if res.Status != StatusFailed || res.Failures != 2 {
		t.Fatalf("status = %v, failures = %d; want two failures", res.Status, res.Failures)
	}
	skipped := map[string]int{}
	for _, e := range rec.events {
		if e.Type == EventSkipped {
			skipped[e.Step.String()]++
		}
	}
	if len(skipped) != 2 || skipped["call.c"] != 1 || skipped["call.d"] != 1 {
		t.Errorf("skipped events by step = %v, want call.c and call.d once each", skipped)
	}
}

func TestRunRetryBlock(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	attempts := 0
	srv := newAPIServer(t, func(method string, form map[string]string) (any, int) {
		mu.Lock()
		defer mu.Unlock()
		attempts++
		if attempts < 3 {
			return nil, 1 // UNKNOWN: transient
		}
		return map[string]any{"uid": "1"}, 0
	})
	w := compile(t, testSession+`
call "me" {
  method = "users.getCurrentUser"
  retry {
    attempts    = 3
    backoff     = "1ms"
    max_backoff = "2ms"
  }
}
`)
	rec := &recorder{}
	res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), Observer: rec})
	if diags.HasErrors() || res.Status != StatusOK {
		t.Fatalf("run: %s", diags.Error())
	}
	if got := rec.count(EventRetried); got != 2 {
		t.Errorf("retried events = %d, want 2", got)
	}
	for _, e := range rec.events {
		if e.Type == EventRetried && (e.Err == nil || !strings.Contains(e.Err.Error(), "UNKNOWN")) {
			t.Errorf("retry event error = %v", e.Err)
		}
	}
}

func TestMergePages(t *testing.T) {
	t.Parallel()
	page := func(anchor string, ids ...string) cty.Value {
		var ms []cty.Value
		for _, id := range ids {
			ms = append(ms, cty.StringVal(id))
		}
		list := cty.EmptyTupleVal
		if len(ms) > 0 {
			list = cty.TupleVal(ms)
		}
		return cty.ObjectVal(map[string]cty.Value{"ids": list, "anchor": cty.StringVal(anchor)})
	}
	tests := []struct {
		name  string
		pages []cty.Value
		want  string
	}{
		{"none", nil, "null"},
		{"one page unchanged", []cty.Value{page("a", "1")}, `{"anchor":"a","ids":["1"]}`},
		{"lists concatenated, last anchor", []cty.Value{page("a", "1", "2"), page("b"), page("c", "3")}, `{"anchor":"c","ids":["1","2","3"]}`},
		{"non-object pages", []cty.Value{cty.StringVal("x"), cty.StringVal("y")}, `["x","y"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := string(lang.DisplayJSON(MergePages(tt.pages))); got != tt.want {
				t.Errorf("MergePages = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestRunInvalidBeforeAnyCall(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, func(string, map[string]string) (any, int) { return "ok", 0 })
	w := compile(t, `
session "main" {
  app_key = ""
}
call "me" {
  method = "users.getCurrentUser"
}
`)
	res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: Connect})
	if res.Status != StatusInvalid || !strings.Contains(diags.Error(), "app_key is not set") {
		t.Fatalf("status %v, diags %s; want invalid with a missing app_key", res.Status, diags.Error())
	}
	if len(srv.Calls()) != 0 {
		t.Errorf("calls = %d, want none", len(srv.Calls()))
	}
}

func TestRunInterrupted(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, func(method string, form map[string]string) (any, int) { return "ok", 0 })
	srv.barrier = 1000 // every call waits: the run can only end by cancellation
	w := compile(t, testSession+`
call "many" {
  method   = "users.getInfo"
  for_each = range(20)
  params   = { uids = each.key, fields = "name" }
}
call "after" {
  method = "users.getInfo"
  params = { uids = length(call.many), fields = "name" }
}
`)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	started := 0
	obs := ObserverFunc(func(e Event) {
		if e.Type == EventStarted {
			started++
			if started == 2 {
				cancel()
			}
		}
	})
	res, _ := w.Run(ctx, Inputs{}, Options{Connect: srv.connector(), Parallelism: 2, Observer: obs})
	if res.Status != StatusInterrupted {
		t.Fatalf("status = %v, want interrupted", res.Status)
	}
	if n := len(srv.Calls()); n > 2 {
		t.Errorf("%d calls were sent after the interruption was seen, want at most the 2 in flight", n)
	}
}

// TestFailedEventHasError: an instance whose parameters fail to evaluate
// once results are known (no call made) is reported failed with an error
// a view can print; a nil one crashed the text view.
func TestFailedEventHasError(t *testing.T) {
	t.Parallel()
	w := compile(t, testSession+`
call "me" { method = "users.getCurrentUser" }
call "next" {
  method = "users.getInfo"
  params = { uids = call.me.result.nosuch.uid, fields = "name" }
}
`)
	srv := newAPIServer(t, func(string, map[string]string) (any, int) { return map[string]any{"uid": "1"}, 0 })
	rec := &recorder{}
	res, _ := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), Observer: rec})
	if res.Status != StatusFailed {
		t.Fatalf("status %v", res.Status)
	}
	for _, e := range rec.events {
		if e.Type == EventFailed && (e.Err == nil || ErrorText(e.Err, e.Method) == "") {
			t.Errorf("failed event of %s without an error", e.Step)
		}
	}
	if rec.count(EventFailed) != 1 {
		t.Errorf("%d failed events", rec.count(EventFailed))
	}
}

// A failure holds the dispatch until the loop has handled it: the worker
// that posts it takes nothing more, so once the loop stops the run, only
// the calls already in flight are made.
func TestFailureHoldsDispatch(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, func(method string, form map[string]string) (any, int) {
		if form["uids"] == "u0" {
			return nil, 100
		}
		time.Sleep(100 * time.Millisecond) // in flight while u0 fails
		return map[string]any{"uid": form["uids"]}, 0
	})
	w := compile(t, testSession+`
call "read" {
  method   = "users.getInfo"
  for_each = range(40)
  params   = { uids = "u${each.key}", fields = "name" }
}
`)
	res, _ := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), Parallelism: 4})
	if res.Status != StatusFailed {
		t.Fatalf("status %v, want failed", res.Status)
	}
	// u0 fails first; the other workers may not have taken theirs yet.
	if n := len(srv.Calls()); n > 4 {
		t.Errorf("%d calls, want at most the 4 taken before the failure", n)
	}
}
