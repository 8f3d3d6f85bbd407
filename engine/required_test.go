package engine

import (
	"fmt"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// TestValidateRequiredParams: a call of a catalog method without one of
// its required parameters (okru/data/method-rules.tsv) is an error that
// lists the method's parameters, found when the workflow is compiled or,
// for values only evaluation knows, when it is planned. An unknown value
// is fine; unlisted calls skip the check.
func TestValidateRequiredParams(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		vars      map[string]cty.Value // nil: every variable unknown
		want      string               // "" for no error
		at        string               // the diagnostic's position, "line,col"
	}{
		{name: "no params at all", src: `call "m" { method = "group.getMembers" }`,
			want: "group.getMembers needs parameter uid", at: "1,"},
		{name: "absent from an object", src: "call \"m\" {\n  method = \"group.getMembers\"\n  params = { count = 10 }\n}",
			want: "Parameters of group.getMembers: uid, anchor, direction, statuses, count (required: uid)", at: "3,12"},
		{name: "two absent", src: `call "i" { method = "users.getInfo" }`, want: "users.getInfo needs parameters uids, fields"},
		{name: "null literal", src: `call "m" {
  method = "group.getMembers"
  params = { uid = null }
}`, want: "group.getMembers needs parameter uid"},
		{name: "null variable", src: `variable "gid" {
  type    = string
  default = null
}
call "m" {
  method = "group.getMembers"
  params = { uid = var.gid }
}`, vars: map[string]cty.Value{"gid": cty.NullVal(cty.String)}, want: "group.getMembers needs parameter uid"},
		{name: "unknown variable is fine", src: `variable "gid" { type = string }
call "m" {
  method = "group.getMembers"
  params = { uid = var.gid }
}`},
		{name: "a result is fine", src: `call "me" { method = "users.getCurrentUser" }
call "m" {
  method = "group.getMembers"
  params = { uid = call.me.result.uid }
}`},
		{name: "params from a local without the key", src: `locals { p = { count = 10 } }
call "m" {
  method = "group.getMembers"
  params = local.p
}`, want: "group.getMembers needs parameter uid"},
		{name: "params from a local with the key", src: `locals { p = { uid = "1" } }
call "m" {
  method = "group.getMembers"
  params = local.p
}`},
		{name: "for_each instance named", src: `call "m" {
  method   = "group.getMembers"
  for_each = { a = "1", b = null }
  params   = { uid = each.value }
}`, want: `group.getMembers for call.m["b"] needs parameter uid`},
		{name: "an instance skipped by when is not checked", src: `call "m" {
  method   = "group.getMembers"
  for_each = { a = "1", b = null }
  when     = each.value != null
  params   = { uid = each.value }
}`},
		{name: "unlisted skips the check", src: `call "m" {
  method   = "group.getMembers"
  unlisted = true
}`},
		{name: "conditional permissions are no parameter rule", src: `call "p" {
  method = "mediatopic.post"
  params = { type = "GROUP_THEME", gid = "1", attachment = "{}" }
}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, diags := compileDiags(t, testSession+tt.src)
			if !diags.HasErrors() {
				in := Inputs{Variables: tt.vars}
				if in.Variables == nil {
					in.Variables = w.Config().UnknownVariables()
				}
				_, d := w.Plan(t.Context(), in)
				diags = append(diags, d...)
			}
			if tt.want == "" {
				if diags.HasErrors() {
					t.Fatalf("diagnostics: %s", diags.Error())
				}
				return
			}
			if !diags.HasErrors() || !strings.Contains(diags.Error(), tt.want) || !strings.Contains(diags.Error(), "Missing required parameter") {
				t.Fatalf("diagnostics %q, want an error with %q", diags.Error(), tt.want)
			}
			if tt.at != "" {
				line := strings.Count(testSession, "\n") // testSession takes the first lines
				at := "no position"
				for _, d := range diags {
					if d.Subject != nil {
						at = fmt.Sprintf("%d,%d", d.Subject.Start.Line-line, d.Subject.Start.Column)
						break
					}
				}
				if !strings.HasPrefix(at, tt.at) {
					t.Errorf("diagnostic at %s, want %s", at, tt.at)
				}
			}
		})
	}
}

// TestValidateEveryMissingRequired: every call missing a required
// parameter is reported at once, a parameter set to null beside another
// call's absent one included (a workflow failing the static check is
// never planned, so the null must be found there).
func TestValidateEveryMissingRequired(t *testing.T) {
	t.Parallel()
	_, diags := compileDiags(t, testSession+`call "m" { method = "group.getMembers" }
call "p" {
  method = "mediatopic.post"
  params = { type = "USER_STATUS", attachment = null }
}
call "i" {
  method = "users.getInfo"
  params = { uids = "1", fields = (null) }
}
call "fine" {
  method = "mediatopic.post"
  params = { type = "USER_STATUS", attachment = call.m.result }
}
`)
	var got []string
	for _, d := range diags {
		got = append(got, d.Detail)
	}
	want := []string{"group.getMembers needs parameter uid", "mediatopic.post needs parameter attachment", "users.getInfo needs parameter fields"}
	if len(diags) != len(want) {
		t.Fatalf("%d diagnostics, want %d:\n%s", len(diags), len(want), strings.Join(got, "\n"))
	}
	for _, w := range want {
		if !strings.Contains(strings.Join(got, "\n"), w) {
			t.Errorf("no diagnostic says %q:\n%s", w, strings.Join(got, "\n"))
		}
	}
}

// TestRunCheckRequiredParams: the check Run makes before calling (one
// instance at a time, for large batches) reports a required parameter
// known to be null as Plan does.
func TestRunCheckRequiredParams(t *testing.T) {
	t.Parallel()
	w := compile(t, testSession+`call "m" {
  method   = "group.getMembers"
  for_each = [for i in range(300) : i == 250 ? null : tostring(i)]
  params   = { uid = each.value }
}`)
	_, diags := w.check(t.Context(), Inputs{Variables: w.Config().UnknownVariables()})
	if len(diags) != 1 || !strings.Contains(diags.Error(), "group.getMembers for call.m[250] needs parameter uid") {
		t.Fatalf("diagnostics: %s", diags.Error())
	}
}
