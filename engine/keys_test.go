package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/lang"
	"github.com/zclconf/go-cty/cty"
)

// Batch runs read their keys from a file: these tests and benchmarks use
// the idiom users write,
//
//	for_each = toset(split("\n", trimspace(file("keys.txt"))))
//
// and count the work done instead of timing it.

// keysSource is a workflow of one users.getInfo call per key of a file.
const keysSource = testSession + `
variable "keys_file" {
  type    = string
  default = "keys.txt"
}
call "info" {
  method   = "users.getInfo"
  for_each = toset(split("\n", trimspace(file(var.keys_file))))
  params   = { uids = each.value, fields = "name" }
}
output "calls" { value = length(call.info) }
`

// writeKeys writes n distinct keys, one a line, to dir/name.
func writeKeys(t testing.TB, dir, name string, n int) {
	t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "5000%08d\n", i)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// compileIn loads src as a workflow in dir, so file() reads dir's files.
func compileIn(t testing.TB, dir, src string) *Workflow {
	t.Helper()
	cfg, diags := lang.LoadSource("keys.hcl", []byte(src), dir)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	w, diags := Compile(cfg)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return w
}

// countingEnv is an environment whose reads of one name are counted: a
// for_each that calls env() once is evaluated as often as that name is
// read.
type countingEnv struct {
	name, value string
	reads       atomic.Int64
}

func (c *countingEnv) getenv(name string) string {
	if name != c.name {
		return ""
	}
	c.reads.Add(1)
	return c.value
}

// TestForEachEvaluatedOnce checks that the for_each of a 10,000-instance
// step is evaluated once by a plan and once by a run (whose check before
// the first call and whose run share one evaluation), whatever the
// instances do.
func TestForEachEvaluatedOnce(t *testing.T) {
	t.Parallel()
	keys := make([]string, 10_000)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%05d", i)
	}
	srv := newAPIServer(t, func(method string, _ map[string]string) (any, int) {
		if method == "users.getCurrentUser" {
			return map[string]any{"uid": "1", "fields": "name"}, 0
		}
		return []any{}, 0
	})
	tests := []struct{ name, src string }{
		{"params from each", `
call "info" {
  method   = "users.getInfo"
  for_each = toset(split(",", env("KEYS")))
  params   = { uids = each.value, fields = "name" }
}`},
		{"params waiting for another call", `
call "me" {
  method = "users.getCurrentUser"
}
call "info" {
  method   = "users.getInfo"
  for_each = toset(split(",", env("KEYS")))
  when     = each.key != "k00007"
  params   = { uids = each.value, fields = call.me.result.fields }
}
output "n" { value = length(call.info) }`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := compile(t, testSession+tt.src)
			env := &countingEnv{name: "KEYS", value: strings.Join(keys, ",")}
			in := Inputs{Variables: map[string]cty.Value{}, Getenv: env.getenv}
			p, diags := w.Plan(t.Context(), in)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if got := env.reads.Swap(0); got != 1 {
				t.Errorf("plan evaluated for_each %d times, want 1", got)
			}
			if n := len(p.Steps[len(p.Steps)-1].Instances); n != len(keys) {
				t.Errorf("plan has %d instances, want %d", n, len(keys))
			}
			res, diags := w.Run(t.Context(), in, Options{Connect: srv.connector(), Parallelism: 8})
			if diags.HasErrors() || res.Status != StatusOK {
				t.Fatalf("run: %v %s", res.Status, diags.Error())
			}
			if got := env.reads.Load(); got != 1 {
				t.Errorf("run evaluated for_each %d times, want 1", got)
			}
		})
	}
}

// TestKeysFileInputs is the bad input a keys file brings: each a clear
// diagnostic before any call, never a panic or a hang.
func TestKeysFileInputs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		keys    string
		errors  bool
		want    string // in the diagnostics
		planned int    // instances planned when there is no error
	}{
		{"duplicate keys", "5001\n5002\n5001\n5003\n5002\n", false, "toset dropped 2 repeated values, so the step has 3 instances", 3},
		{"empty file", "", true, "for_each element 0 has an empty key. An empty keys file, or a blank line in one", 0},
		{"blank line", "5001\n\n5002\n", true, "has an empty key", 0},
		{"windows line endings", "5001\r\n5002\r\n", true, `for_each key "5001\r" holds the control character '\r'`, 0},
		{"a NUL inside a key", "50\x0001\n5002\n", true, `holds the control character '\x00'`, 0},
		{"one key", "5001", false, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "keys.txt"), []byte(tt.keys), 0o644); err != nil {
				t.Fatal(err)
			}
			srv := newAPIServer(t, func(string, map[string]string) (any, int) { return []any{}, 0 })
			w := compileIn(t, dir, keysSource)
			in := Inputs{Variables: map[string]cty.Value{"keys_file": cty.StringVal("keys.txt")}}
			p, diags := w.Plan(t.Context(), in)
			if diags.HasErrors() != tt.errors || !strings.Contains(diagText(diags)+diagDetails(diags), tt.want) {
				t.Fatalf("plan: errors %v, want %v; diagnostics: %s", diags.HasErrors(), tt.errors, diagDetails(diags))
			}
			if !tt.errors && len(p.Steps[0].Instances) != tt.planned {
				t.Errorf("planned %d instances, want %d", len(p.Steps[0].Instances), tt.planned)
			}
			res, diags := w.Run(t.Context(), in, Options{Connect: srv.connector()})
			if tt.errors {
				if res.Status != StatusInvalid || len(srv.Calls()) != 0 {
					t.Errorf("run: status %v with %d calls, want invalid with none", res.Status, len(srv.Calls()))
				}
				return
			}
			if res.Status != StatusOK || len(srv.Calls()) != tt.planned {
				t.Errorf("run: status %v with %d calls, want %d", res.Status, len(srv.Calls()), tt.planned)
			}
		})
	}
}

func diagDetails(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		b.WriteString(d.Summary + ": " + d.Detail + "\n")
	}
	return b.String()
}

// TestTooManyInstances refuses a step of more than MaxInstances before
// anything is planned or called, and an empty for_each is a warning.
func TestTooManyInstances(t *testing.T) {
	t.Parallel()
	w := compile(t, testSession+`
variable "ids" { type = list(string) }
call "info" {
  method   = "users.getInfo"
  for_each = var.ids
  params   = { uids = each.value, fields = "name" }
}`)
	ids := make([]cty.Value, MaxInstances+1)
	for i := range ids {
		ids[i] = cty.StringVal("1")
	}
	_, diags := w.Plan(t.Context(), Inputs{Variables: vars("ids", cty.ListVal(ids))})
	if !diags.HasErrors() || !strings.Contains(diagDetails(diags), "for_each has 1000001 elements; a step may have at most 1000000 instances") {
		t.Errorf("diagnostics: %s", diagDetails(diags))
	}
	_, diags = w.Plan(t.Context(), Inputs{Variables: vars("ids", cty.ListValEmpty(cty.String))})
	if diags.HasErrors() || !strings.Contains(diagDetails(diags), "Empty for_each: for_each is empty, so call.info makes no call") {
		t.Errorf("diagnostics: %s", diagDetails(diags))
	}
}

// TestPlanStopsWhenCancelled: a plan of 100,000 instances stops between
// instances once its context is cancelled (the first SIGINT or SIGTERM),
// saying it was interrupted, instead of planning the rest.
func TestPlanStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeKeys(t, dir, "keys.txt", 100_000)
	w := compileIn(t, dir, strings.Replace(keysSource, `params   = {`, `when     = env("SKIP") != each.key
  params   = {`, 1))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var whens atomic.Int64
	getenv := func(string) string {
		if whens.Add(1) == 1000 {
			cancel()
		}
		return ""
	}
	_, diags := w.Plan(ctx, Inputs{Variables: map[string]cty.Value{"keys_file": cty.StringVal("keys.txt")}, Getenv: getenv})
	if !diags.HasErrors() || !strings.Contains(diagDetails(diags), "Planning was interrupted") {
		t.Errorf("diagnostics: %s", diagDetails(diags))
	}
	if n := whens.Load(); n > 50_000 {
		t.Errorf("%d instances planned after the cancel at the 1,000th, want it to stop within a chunk per core", n)
	}
}

// BenchmarkPlanKeysFile plans keys-file workflows of 1,000, 10,000,
// 16,000 and 100,000 keys beside a bare net/http loop making 16,000 such
// calls (signed beforehand, parallelism 8) against the in-process
// sandbox:
//
//	go test ./engine -run '^$' -bench PlanKeysFile -benchtime 3x
//
// Reported: the milliseconds of each plan, the cost per key, the growth
// from 1,000 to 16,000 keys as a multiple of 16 (goal: at most 1.25, i.e.
// 20x the time for 16x the keys), and the plan of 16,000 keys as a share
// of the bare loop's time to make them (goal: at most 50%).
func BenchmarkPlanKeysFile(b *testing.B) {
	bb := newBatchBench(b)
	dir := b.TempDir()
	sizes := []int{1000, 10_000, 16_000, 100_000}
	for _, n := range sizes {
		writeKeys(b, dir, fmt.Sprintf("keys%d.txt", n), n)
	}
	w := compileIn(b, dir, keysSource)
	plans := map[int]time.Duration{}
	var bare time.Duration
	ids := callIDs(16_000)
	for b.Loop() {
		for _, n := range sizes {
			in := Inputs{Variables: map[string]cty.Value{"keys_file": cty.StringVal(fmt.Sprintf("keys%d.txt", n))}}
			begin := time.Now()
			p, diags := w.Plan(b.Context(), in)
			plans[n] += time.Since(begin)
			if diags.HasErrors() || len(p.Steps[0].Instances) != n {
				b.Fatal(diags.Error())
			}
		}
		bare += bb.bare(b, ids, 8)
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	for _, n := range sizes {
		b.ReportMetric(ms(plans[n]), fmt.Sprintf("plan-ms-%dk", n/1000))
	}
	b.ReportMetric(float64(plans[100_000].Nanoseconds())/float64(b.N)/100_000, "plan-ns/key-100k")
	b.ReportMetric(float64(plans[16_000])/float64(plans[1000])/16, "growth-16k/1k-per-key")
	b.ReportMetric(ms(bare), "bare-ms-16k-calls")
	b.ReportMetric(100*float64(plans[16_000])/float64(bare), "plan-16k-%-of-bare")
}
