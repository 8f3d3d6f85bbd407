package engine

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/okru-run/okru-run/lang"
	"github.com/zclconf/go-cty/cty"
)

// A run checks every instance of a known for_each before the first call,
// however large the for_each (large ones are checked in parallel chunks):
// a bad parameter or when anywhere means nothing is called, and the
// diagnostics come in the order of the instances.
func TestRunChecksEveryInstanceFirst(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		n     int
		src   string
		want  []string // instances named by the diagnostics, in order
		count int      // diagnostics
	}{
		{"bad params in a small for_each", 10, `
call "c" {
  method   = "users.getInfo"
  for_each = var.items
  params   = { uids = parseint(each.value, 10), fields = "name" }
}
`, []string{"call.c[3]", "call.c[7]"}, 2},
		{"bad params in a large for_each", 3000, `
call "c" {
  method   = "users.getInfo"
  for_each = var.items
  params   = { uids = parseint(each.value, 10), fields = "name" }
}
`, []string{"call.c[3]", "call.c[7]", "call.c[1500]", "call.c[2999]"}, 4},
		{"bad when in a large for_each", 3000, `
call "c" {
  method   = "users.getInfo"
  for_each = var.items
  when     = parseint(each.value, 10) >= 0
  params   = { uids = each.value, fields = "name" }
}
`, []string{"call.c[3]", "call.c[7]", "call.c[1500]", "call.c[2999]"}, 4},
		{"bad params in every instance", 3000, `
call "c" {
  method   = "users.getInfo"
  for_each = var.items
  params   = { uids = parseint("x${each.value}", 10), fields = "name" }
}
`, []string{"call.c[0]", "call.c[1]", "call.c[2]", "call.c[3]", "call.c[4]", "call.c[5]", "call.c[6]", "call.c[7]", "call.c[8]", "call.c[9]"}, 11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newAPIServer(t, batchHandle)
			items := make([]cty.Value, tt.n)
			for i := range items {
				items[i] = cty.StringVal(strconv.Itoa(i))
			}
			for _, i := range []int{3, 7, 1500, 2999} {
				if i < tt.n {
					items[i] = cty.StringVal("bad")
				}
			}
			w := compile(t, testSession+`
variable "items" { type = list(string) }
`+tt.src)
			res, diags := w.Run(t.Context(), Inputs{Variables: vars("items", cty.ListVal(items))}, Options{Connect: srv.connector()})
			if res.Status != StatusInvalid || len(srv.Calls()) != 0 {
				t.Fatalf("status %v, %d calls; want invalid with nothing called", res.Status, len(srv.Calls()))
			}
			if len(diags) != tt.count {
				t.Fatalf("%d diagnostics, want %d; the first: %s", len(diags), tt.count, diags[0].Error())
			}
			var named []string
			for _, d := range diags {
				if m := regexp.MustCompile(`call\.c\[\d+\]`).FindString(d.Detail); m != "" {
					named = append(named, m)
				} else if d.EvalContext != nil {
					// A when diagnostic shows its each instead of naming it.
					key := d.EvalContext.Variables["each"].GetAttr("key")
					named = append(named, InstanceName(lang.Address{Kind: lang.KindCall, Name: "c"}, key))
				}
			}
			if strings.Join(named, " ") != strings.Join(tt.want, " ") {
				t.Errorf("diagnostics name %v, want %v:\n%s", named, tt.want, diags.Error())
			}
		})
	}
}

// A run whose for_each results are read by no expression keeps none of
// them, and a step that only waits for it still runs after it.
func TestRunUnusedResultsNotKept(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, batchHandle)
	w := compile(t, testSession+`
call "many" {
  method   = "users.getInfo"
  for_each = range(50)
  params   = { uids = "u${each.key}", fields = "name" }
}
call "after" {
  method     = "users.getCurrentUser"
  depends_on = [call.many]
}
output "uid" { value = call.after.result.uid }
`)
	res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: srv.connector(), Parallelism: 3})
	if res.Status != StatusOK || res.Calls != 51 {
		t.Fatalf("status %v, %d calls: %s", res.Status, res.Calls, diags.Error())
	}
	if got := outputsJSON(res)["uid"]; got != `"42"` {
		t.Errorf("uid = %s", got)
	}
	if w.resultsNeeded(false)[w.root.nodes[lang.Address{Kind: lang.KindCall, Name: "many"}].index] {
		t.Error("call.many's results are marked as needed")
	}
}
