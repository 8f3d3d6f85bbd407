package engine

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

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
