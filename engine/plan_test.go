package engine

import (
	"fmt"
	"strings"
	"testing"

	"github.com/okru-run/okru-run/lang"
	"github.com/zclconf/go-cty/cty"
)

func TestPlanKnownAfter(t *testing.T) {
	t.Parallel()
	w := compile(t, testSession+`
variable "ids" {
  type = list(string)
}
call "members" {
  method   = "group.getMembers"
  params   = { uid = "1", count = 10 }
  paginate = true
}
locals {
  member_ids = call.members.result.members[*].userId
}
call "info" {
  method   = "users.getInfo"
  for_each = chunklist(local.member_ids, 2)
  params   = { uids = each.value, fields = "name" }
}
call "known" {
  method   = "users.getInfo"
  for_each = var.ids
  params   = { uids = each.value, fields = "name" }
  when     = each.key != 1
}
output "n" { value = length(call.info) }
`)
	p, diags := w.Plan(t.Context(), Inputs{Variables: vars("ids", cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b"), cty.StringVal("c")}))})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	var order []string
	for _, s := range p.Steps {
		order = append(order, s.Addr.String())
	}
	if got := strings.Join(order, " "); got != "call.members call.info call.known" {
		t.Errorf("order = %s", got)
	}
	info := p.Steps[1]
	if got := lang.FormatValue(info.ForEach, 0); got != "(known after call.members)" {
		t.Errorf("for_each = %s", got)
	}
	uids := info.Instances[0].Params.GetAttr("uids")
	if got := lang.FormatValue(uids, 0); got != "(known after call.members)" {
		t.Errorf("uids = %s", got)
	}
	known := p.Steps[2]
	if len(known.Instances) != 3 {
		t.Fatalf("known instances = %d, want 3", len(known.Instances))
	}
	for i, inst := range known.Instances {
		wantRun := i != 1
		if inst.When.True() != wantRun {
			t.Errorf("instance %d when = %#v", i, inst.When)
		}
		if !wantRun {
			// The params of a skipped instance are not evaluated: a when
			// often guards what they read.
			if !inst.Params.IsNull() {
				t.Errorf("instance %d (skipped) params = %#v, want null", i, inst.Params)
			}
			continue
		}
		if got := inst.Params.GetAttr("uids").AsString(); got != string(rune('a'+i)) {
			t.Errorf("instance %d uids = %s", i, got)
		}
	}
	if calls, pending := p.Calls(); calls != 3 || pending != 1 {
		t.Errorf("Calls() = %d, %d; want 3 known (members and two of known) and 1 pending", calls, pending)
	}
	if got := lang.FormatValue(p.Outputs[0].Value, 0); got != "(known after call.info)" {
		t.Errorf("output = %s", got)
	}
}

func TestCompileDiagnostics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		want      []string // substrings of the diagnostics, in order
		warning   bool
	}{
		{"cycle names every step", testSession + `
call "a" {
  method = "users.getInfo"
  params = { uids = call.c.result, fields = "name" }
}
call "b" {
  method = "users.getInfo"
  params = { uids = call.a.result, fields = "name" }
}
call "c" {
  method     = "friends.get"
  depends_on = [call.b]
}
`, []string{"Dependency cycle", "call.a → call.c → call.b → call.a"}, false},
		{"self reference", testSession + `
call "a" {
  method = "users.getInfo"
  params = { uids = call.a.result, fields = "name" }
}
`, []string{"call.a → call.a"}, false},
		{"unknown method", testSession + `call "a" { method = "frends.get" }`, []string{"Unknown method", `Did you mean "friends.get"?`}, false},
		{"unknown parameter", testSession + `call "a" {
  method = "friends.get"
  params = { uid = "1", fid = "2", nope = 1 }
}`, []string{"Unknown parameter", `"nope"`}, true},
		{"session depends on a call", `
call "a" { method = "users.getCurrentUser" }
locals { token = call.a.result.uid }
session "main" {
  app_key      = "k"
  access_token = local.token
}`, []string{"Dependency cycle", "session.main", "a session cannot use a call's result"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, diags := compileDiags(t, tt.src)
			text := diags.Error()
			if diags.HasErrors() == tt.warning || len(diags) == 0 {
				t.Fatalf("diagnostics = %s (errors: %v), want warning=%v", text, diags.HasErrors(), tt.warning)
			}
			rest := text
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("diagnostics %q lack %q", text, w)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

// BenchmarkPlan plans generated workflows of 100, 1,000 and 10,000 calls,
// each depending on the one before, to show how planning grows.
func BenchmarkPlan(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		var src strings.Builder
		src.WriteString(testSession)
		src.WriteString("call \"c0\" {\n  method = \"users.getCurrentUser\"\n}\n")
		for i := 1; i < n; i++ {
			fmt.Fprintf(&src, "call \"c%d\" {\n  method = \"users.getInfo\"\n  params = { uids = call.c%d.result.uid, fields = \"first_name\" }\n}\n", i, i-1)
		}
		w := compile(b, src.String())
		b.Run(fmt.Sprintf("calls=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, diags := w.Plan(b.Context(), Inputs{})
				if diags.HasErrors() || len(p.Steps) != n {
					b.Fatal(diags.Error())
				}
			}
		})
	}
}

// BenchmarkCompile loads and compiles the same workflows from source.
func BenchmarkCompile(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		var src strings.Builder
		src.WriteString(testSession)
		src.WriteString("call \"c0\" {\n  method = \"users.getCurrentUser\"\n}\n")
		for i := 1; i < n; i++ {
			fmt.Fprintf(&src, "call \"c%d\" {\n  method = \"users.getInfo\"\n  params = { uids = call.c%d.result.uid, fields = \"name\" }\n}\n", i, i-1)
		}
		text := []byte(src.String())
		dir := b.TempDir()
		b.Run(fmt.Sprintf("calls=%d", n), func(b *testing.B) {
			for b.Loop() {
				cfg, diags := lang.LoadSource("bench.hcl", text, dir)
				if diags.HasErrors() {
					b.Fatal(diags.Error())
				}
				if _, diags := Compile(cfg); diags.HasErrors() {
					b.Fatal(diags.Error())
				}
			}
		})
	}
}
