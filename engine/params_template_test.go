package engine

import (
	"fmt"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/okru-run/okru-run/lang"
	"github.com/zclconf/go-cty/cty"
)

// TestParamsTemplateAsHCL checks that params made by a template are those
// HCL evaluates, to the marks, and that their wire form and journal hash
// are those of that value; and that params of any other form have no
// template.
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
	}
	notTemplated := []string{
		`{ uids = each.value, x = var.x }`,
		`{ uids = upper(each.value) }`,
		`{ (each.key) = 1 }`,
		`{ a = 1, a = 2 }`,
		`{ "null" = 1, null = 2 }`,
		"{ \"\u00e9\" = 1, \"e\u0301\" = 2 }",
		`{ a.b = 1 }`,
		`{ v = each.value.x }`,
		`{ v = each["value"] }`,
		`{ v = "x${each.value}" }`,
		`{ t = "a${"b"}c" }`,
		`{ x = "%{if true}y%{endif}" }`,
		`{ x = -"a" }`,
		`{ x = [for v in [1, 2]: v] }`,
		`{ 1 = "one" }`,
		`var.params`,
		`merge({ a = 1 }, { v = each.value })`,
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
	stepCtx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{"x": cty.StringVal("X")})}}
	for _, src := range templated {
		expr := parseExpr(t, src)
		tmpl := newParamsTemplate(expr)
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
		if newParamsTemplate(parseExpr(t, src)) != nil {
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
