package engine

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/lang"
	"github.com/okru-run/okru-run/okru"
	"github.com/zclconf/go-cty/cty"
)

// Required parameters are checked in two places. checkRequiredStatic runs
// when the workflow is built and reports, once per call block, a required
// parameter that params leaves out or sets to a constant null (uid =
// null); it sees params only when they are written as an object with
// literal keys. checkRequiredValue runs on each planned instance and
// reports what the static check cannot see: a required parameter whose
// value is known to be null only once evaluated, or one missing from
// params given as an expression. A workflow that fails the static check
// is never planned, so what that check can see must not be left to
// checkRequiredValue: it would go unreported beside another call's error. An unknown value is fine: it is known
// when the call runs. Calls marked unlisted skip both, as they skip the
// catalog's other checks.

// requiredOf returns the catalog entry of a call's method when it has
// required parameters to check.
func requiredOf(call *lang.Call) (okru.Method, bool) {
	if call == nil || call.Unlisted {
		return okru.Method{}, false
	}
	m, ok := okru.LookupMethod(call.Method)
	return m, ok && len(m.Required) > 0
}

// staticParams returns the keys and value expressions of params written
// as an object with literal keys; ok is false for any other expression.
func staticParams(params hcl.Expression) (pairs map[string]hcl.Expression, ok bool) {
	if params == nil {
		return nil, true
	}
	items, d := hcl.ExprMap(params)
	if d.HasErrors() {
		return nil, false
	}
	pairs = make(map[string]hcl.Expression, len(items))
	for _, p := range items {
		key := hcl.ExprAsKeyword(p.Key)
		if key == "" {
			v, d := p.Key.Value(nil)
			if d.HasErrors() || v.Type() != cty.String || v.IsNull() || !v.IsKnown() {
				return nil, false
			}
			key = v.AsString()
		}
		pairs[key] = p.Value
	}
	return pairs, true
}

// constNull reports whether expr is null whatever the inputs: it refers to
// nothing and evaluates to null (uid = null).
func constNull(expr hcl.Expression) bool {
	if len(expr.Variables()) > 0 {
		return false
	}
	v, d := expr.Value(nil)
	return !d.HasErrors() && v.IsKnown() && v.IsNull()
}

func checkRequiredStatic(call *lang.Call) hcl.Diagnostics {
	m, ok := requiredOf(call)
	if !ok {
		return nil
	}
	pairs, ok := staticParams(call.Params)
	if !ok {
		return nil
	}
	var missing []string
	for _, r := range m.Required {
		if expr, given := pairs[r]; !given || constNull(expr) {
			missing = append(missing, r)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	subject := call.MethodRange.Ptr()
	if call.Params != nil {
		subject = call.Params.Range().Ptr()
	}
	return hcl.Diagnostics{missingRequired(m, missing, "", subject)}
}

// checkRequiredValue checks the evaluated, known params of one instance.
func checkRequiredValue(inst *instance, params cty.Value) hcl.Diagnostics {
	call := inst.node.step.Call
	m, ok := requiredOf(call)
	if !ok || !params.CanIterateElements() || skipped(inst) {
		return nil
	}
	var missing []string
	for _, r := range m.Required {
		var v cty.Value
		switch {
		case params.Type().IsObjectType() && params.Type().HasAttribute(r):
			v = params.GetAttr(r)
		case params.Type().IsMapType() && params.HasIndex(cty.StringVal(r)).True():
			v = params.Index(cty.StringVal(r))
		default:
			// Asked only for an absent parameter: this runs for every
			// instance of a batch, and the keys are parsed anew.
			if _, static := staticParams(call.Params); !static {
				missing = append(missing, r)
			}
			// else absent: reported once by checkRequiredStatic
			continue
		}
		if uv, _ := v.Unmark(); uv.IsKnown() && uv.IsNull() && !staticNull(call.Params, r) {
			missing = append(missing, r)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return hcl.Diagnostics{missingRequired(m, missing, instanceSuffix(inst), call.Params.Range().Ptr())}
}

// staticNull reports whether checkRequiredStatic found the parameter
// set to a constant null, and so reported it already.
func staticNull(params hcl.Expression, name string) bool {
	pairs, ok := staticParams(params)
	return ok && pairs[name] != nil && constNull(pairs[name])
}

func missingRequired(m okru.Method, missing []string, suffix string, subject *hcl.Range) *hcl.Diagnostic {
	what, it := "parameter "+missing[0], "it"
	if len(missing) > 1 {
		what, it = "parameters "+strings.Join(missing, ", "), "them"
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Missing required parameter",
		Detail: fmt.Sprintf("%s%s needs %s: ok.ru refuses the call without %s (PARAM, 100). "+
			"Parameters of %s: %s (required: %s). If okru-run's catalog is wrong here, set unlisted = true in this call to skip its checks.",
			m.Name, suffix, what, it, m.Name, strings.Join(m.Params, ", "), strings.Join(m.Required, ", ")),
		Subject: subject,
	}
}

// skipped reports whether the instance's when is known to be false: its
// parameters are never sent.
func skipped(inst *instance) bool {
	return inst.when != cty.NilVal && isFalse(inst.when)
}

// isFalse reports whether v is the known bool false, marked or not. It
// runs for every instance a run checks: cty's False, and RawEquals, go
// through Equals, which walks the value looking for marks.
func isFalse(v cty.Value) bool {
	v, _ = v.Unmark()
	// A known, non-null, unmarked bool holds a Go bool, which == compares.
	return v.Type() == cty.Bool && v.IsKnown() && !v.IsNull() && v == cty.False
}
