package engine

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/okru-run/okru-run/lang"
	"github.com/okru-run/okru-run/okru"
	"github.com/okru-run/okru-run/okru/okrutest"
	"github.com/zclconf/go-cty/cty"
)

// BenchmarkThousandCalls makes 1,000 users.getInfo calls against the
// in-process sandbox (pacing off, one call at a time) three ways, side by
// side: okru.API.Call in a Go loop (the baseline), an HCL call with
// for_each over 1,000 elements, and one script step calling okru.call
// 1,000 times, without and with a state journal. The differences are the costs of the engine (evaluation,
// events, cty values) and of the Lua layer (the VM, value conversion both
// ways). Compare ns/call:
//
//	go test ./engine -run '^$' -bench ThousandCalls -benchtime 20x
func BenchmarkThousandCalls(b *testing.B) {
	const calls = 1000
	srv := okrutest.NewServer(okrutest.Config{MaxCalls: 10 * calls})
	b.Cleanup(srv.Close)
	app, demo := srv.App(), srv.DemoUser()
	api := okru.New(okru.ServerSession(app.Key, app.SecretKey, demo.AccessToken, okru.WithAPIURL(srv.URL)),
		&okru.Options{Rate: okru.Unlimited})
	connect := func(context.Context, SessionConfig) (Caller, error) { return api, nil }
	in := Inputs{Variables: map[string]cty.Value{"uid": cty.StringVal(demo.UID)}}
	const head = `
variable "uid" { type = string }
session "main" {}
`
	run := func(b *testing.B, w *Workflow, state *StateOptions) {
		for b.Loop() {
			res, diags := w.Run(b.Context(), in, Options{Connect: connect, Parallelism: 1, State: state})
			if diags.HasErrors() || res.Status != StatusOK {
				b.Fatalf("run: status %v: %s", res.Status, diags.Error())
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*calls), "ns/call")
	}

	b.Run("go", func(b *testing.B) {
		params := okru.Params{"uids": demo.UID, "fields": "first_name"}
		for b.Loop() {
			for range calls {
				if _, err := api.Call(b.Context(), "users.getInfo", params); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*calls), "ns/call")
	})
	b.Run("hcl-for_each", func(b *testing.B) {
		run(b, compileBench(b, head+`
call "info" {
  method   = "users.getInfo"
  for_each = range(1000)
  params   = { uids = var.uid, fields = "first_name" }
}
output "n" { value = length(call.info) }
`), nil)
	})
	const luaSource = `
script "info" {
  input  = var.uid
  source = <<-EOT
    local n = 0
    for i = 1, 1000 do
      n = n + #okru.call("users.getInfo", {uids = input, fields = "first_name"})
    end
    return n
  EOT
}
output "n" { value = script.info.result }
`
	b.Run("lua", func(b *testing.B) { run(b, compileBench(b, head+luaSource), nil) })
	// The same script with a state journal: a read's record per call,
	// group-committed, as a batch run keeps them.
	b.Run("lua-journaled", func(b *testing.B) {
		run(b, compileBench(b, head+luaSource), &StateOptions{Path: filepath.Join(b.TempDir(), "bench.journal"), Fresh: true})
	})
}

func compileBench(b *testing.B, src string) *Workflow {
	b.Helper()
	cfg, diags := lang.LoadSource("bench.hcl", []byte(src), b.TempDir())
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	w, diags := Compile(cfg)
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	return w
}
