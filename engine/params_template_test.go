package engine

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/okru-run/okru-run/engine/state"
	"github.com/okru-run/okru-run/lang"
	"github.com/zclconf/go-cty/cty"
)

// TestParamsTemplateAsHCL checks that params made by a template are those
// HCL evaluates, to the marks, and that their wire form and journal hash
// are those of that value; and that params of any other form, or whose
// evaluation gives a diagnostic, have no template.
func TestParamsTemplateAsHCL(t *testing.T) {
	templated := []string{
		`{ uids = each.value, fields = "first_name,last_name" }`,
		`{ "uids" = each.value, n = 5, b = true, l = [1, "a", 2.5], o = { a = 1, "b" = [true] }, neg = -3 }`,
		`{ k = each.key, v = "${each.value}", nul = null }`,
		`{ big = 12345678901234567890, f = 1.5e300, s = "a%b&c=d é", e = "" }`,
		`{ v = each.value, null = 2, true = 3 }`,
		`{ v = each.value, z = "last", a = "first", m = "é" }`,
		`{}`,
		`{ bad = [null, 1], v = each.value }`,
		`{ v = each.value, w = "${each.key}" }`,
		`{ uid = var.x, call_id = each.value, fields = "name" }`,
		`{ n = var.n, s = var.secret, u = var.unknown, l = var.list, v = each.value }`,
		`{ t = "${var.x}-y", c = var.x == "" ? "a" : "b", sum = var.n + 1, l = [for v in var.list : v], i = var.list[1] }`,
		`{ uids = each.value, x = var.x }`,
		`{ t = "a${"b"}c", x = "%{if true}y%{endif}", f = [for v in [1, 2]: v] }`,
		`{ v = var.n / 0 }`,
	}
	notTemplated := []string{
		`{ uids = upper(each.value) }`,
		`{ (each.key) = 1 }`,
		`{ a = 1, a = 2 }`,
		`{ "null" = 1, null = 2 }`,
		"{ \"\u00e9\" = 1, \"e\u0301\" = 2 }",
		`{ a.b = 1 }`,
		`{ v = each.value.x }`,
		`{ v = each["value"] }`,
		`{ v = "x${each.value}" }`,
		`{ x = -"a" }`,
		`{ 1 = "one" }`,
		`var.params`,
		`merge({ a = 1 }, { v = each.value })`,
		`{ v = "${each.value}-${var.x}" }`,
		`{ v = [each.value] }`,
		`{ t = timestamp() }`,
		`{ v = var.x, u = upper(var.x) }`,
		`{ v = local.missing }`,
		`{ v = var.x.nope }`,
		`{ (var.secret) = 1 }`,
		`{ (var.unknown) = 1 }`,
		`{ (var.n) = 1 }`,
		`{ (var.x) = 1 }`,
		`{ "${var.x}" = each.value }`,
	}
	stringKeys := []cty.Value{cty.StringVal("500000000001"), cty.StringVal("a&b=c"), cty.StringVal("é"), cty.StringVal("x y")}
	mixed := []cty.Value{
		cty.StringVal("s"), cty.NumberIntVal(42), cty.NumberFloatVal(0.5), cty.True,
		cty.ObjectVal(map[string]cty.Value{"a": cty.StringVal("b"), "n": cty.NumberIntVal(1)}),
		cty.TupleVal([]cty.Value{cty.StringVal("x"), cty.NullVal(cty.String)}),
		cty.ListVal([]cty.Value{cty.StringVal("x"), cty.StringVal("y")}),
		cty.NullVal(cty.String),
		cty.UnknownVal(cty.String),
		lang.Sensitive(cty.StringVal("secret")),
	}
	expansions := map[string]*expanded{
		"set of strings": {keying: keyString, keys: stringKeys, values: stringKeys},
		"map of values":  {keying: keyString, keys: stringKeys[:2], values: mixed[:2]},
		"list":           {keying: keyIndex, values: mixed},
	}
	stepCtx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{
		"x": cty.StringVal("X"), "n": cty.NumberIntVal(5), "secret": lang.Sensitive(cty.StringVal("s3cret")),
		"unknown": cty.UnknownVal(cty.String), "list": cty.TupleVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")}),
	})}}
	for _, src := range templated {
		expr := parseExpr(t, src)
		tmpl := newParamsTemplate(expr, stepCtx)
		if tmpl == nil {
			t.Errorf("%s: no template", src)
			continue
		}
		for name, x := range expansions {
			x.ctx = stepCtx
			x.pending = cty.NilVal
			for i := range x.values {
				want, diags := expr.Value(x.eachContext(i))
				if diags.HasErrors() {
					t.Fatalf("%s, %s[%d]: %s", src, name, i, diags.Error())
				}
				got := tmpl.value(x, i)
				if !got.RawEquals(want) {
					t.Errorf("%s, %s[%d]: template made %#v, HCL %#v", src, name, i, got, want)
				}
				wantWire, wantErr := wireParams(want)
				gotWire, hash, gotErr := tmpl.wire(x, i, true)
				if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
					t.Errorf("%s, %s[%d]: error %v, want %v", src, name, i, gotErr, wantErr)
					continue
				}
				if gotErr != nil {
					continue
				}
				if fmt.Sprint(gotWire) != fmt.Sprint(wantWire) {
					t.Errorf("%s, %s[%d]: wire %v, want %v", src, name, i, gotWire, wantWire)
				}
				if want := argsHash(want); hash != want {
					t.Errorf("%s, %s[%d]: hash %s, want %s", src, name, i, hash, want)
				}
				if _, noHash, _ := tmpl.wire(x, i, false); noHash != "" {
					t.Errorf("%s: a hash was made without being asked for", src)
				}
			}
		}
	}
	for _, src := range notTemplated {
		if newParamsTemplate(parseExpr(t, src), stepCtx) != nil {
			t.Errorf("%s: has a template", src)
		}
	}
}

func parseExpr(t *testing.T, src string) hcl.Expression {
	t.Helper()
	expr, diags := hclsyntax.ParseExpression([]byte(src), "params.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("%s: %s", src, diags.Error())
	}
	return expr
}

func TestIsFalse(t *testing.T) {
	for _, c := range []struct {
		v    cty.Value
		want bool
	}{
		{cty.False, true},
		{cty.True, false},
		{lang.Sensitive(cty.False), true},
		{cty.UnknownVal(cty.Bool), false},
		{cty.NullVal(cty.Bool), false},
		{cty.StringVal("false"), false},
		{cty.DynamicVal, false},
		{cty.NilVal, false},
	} {
		if got := isFalse(c.v); got != c.want {
			t.Errorf("isFalse(%#v) = %t", c.v, got)
		}
	}
}

// TestParamsTemplateRunContext: a for_each known in the check whose params
// take a value from an earlier step, unknown in the check, send that
// value: the run's template is made in the run's context, not the
// check's. The journal records the hash HCL's value gives.
func TestParamsTemplateRunContext(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, func(method string, form map[string]string) (any, int) {
		switch method {
		case "users.getCurrentUser":
			return map[string]any{"uid": "12345678901234567890"}, 0
		case "users.getInfo":
			return []map[string]any{{"uid": form["uids"]}}, 0
		}
		return nil, 3
	})
	w := compile(t, testSession+`
variable "fields" { default = "first_name" }
call "me" {
  method = "users.getCurrentUser"
}
call "info" {
  method   = "users.getInfo"
  for_each = toset(["1", "2"])
  params   = { uids = each.value, fields = var.fields, me = call.me.result.uid }
}
`)
	path := filepath.Join(t.TempDir(), "run.journal")
	res, diags := w.Run(t.Context(), Inputs{Variables: map[string]cty.Value{"fields": cty.StringVal("first_name")}},
		Options{Connect: srv.connector(), State: &StateOptions{Path: path}})
	if diags.HasErrors() || res.Status != StatusOK {
		t.Fatalf("run: status %v: %s", res.Status, diags.Error())
	}
	sent := 0
	for _, c := range srv.Calls() {
		if c.Method != "users.getInfo" {
			continue
		}
		sent++
		if c.Form["me"] != "12345678901234567890" || c.Form["fields"] != "first_name" {
			t.Errorf("users.getInfo sent %v", c.Form)
		}
	}
	if sent != 2 {
		t.Fatalf("%d users.getInfo calls, want 2", sent)
	}
	st, err := state.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, key := range []string{"1", "2"} {
		want := argsHash(cty.ObjectVal(map[string]cty.Value{"uids": cty.StringVal(key),
			"fields": cty.StringVal("first_name"), "me": cty.StringVal("12345678901234567890")}))
		e, ok := st.Lookup(`call.info["` + key + `"]`)
		if !ok || e.Hash != want {
			t.Errorf("call.info[%q]: recorded %+v, want hash %s", key, e, want)
		}
	}
}

// The check of the run (Workflow.check), which keeps no instance, skips
// planInstance for an instance whose params template needs only its each
// when that is a known, unmarked string (plainParams): it must report
// what planning every instance reports.
func TestCheckPlainInstancesAsPlanned(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		`for_each = { a = "x", b = ["y", null], c = null, d = "z", e = 5 }
  params = { uids = each.value, fields = "name" }`,
		`for_each = toset(["a", "b"])
  params = { uids = each.value, fields = ["x", null] }`,
		`for_each = toset(["a", "b"])
  params = { uids = each.key, fields = each.key == "" ? "x" : null }`,
		`for_each = ["a", "b"]
  params = { uids = each.key, fields = each.value }`,
		`for_each = { a = "x", b = "y" }
  params = { uids = each.value, fields = "name" }`,
	} {
		w := compile(t, testSession+`
call "c" {
  method = "users.getInfo"
  `+src+`
}
`)
		_, _, want := w.plan(t.Context(), Inputs{}, keepAll)
		_, got := w.check(t.Context(), Inputs{})
		if fmt.Sprint(got.Errs()) != fmt.Sprint(want.Errs()) {
			t.Errorf("%s:\ncheck: %v\nplan:  %v", src, got.Errs(), want.Errs())
		}
	}
}
