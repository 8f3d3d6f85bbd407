package engine

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/lang"
	"github.com/okru-run/okru-run/lang/lua"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
)

// Inputs are what a plan or a run is evaluated with.
type Inputs struct {
	// Variables holds a value for every variable: from
	// lang.Config.ResolveVariables, or lang.Config.UnknownVariables to
	// check a workflow without its inputs.
	Variables map[string]cty.Value
	// Getenv serves env(); nil means an empty environment.
	Getenv func(string) string
	// Now serves timestamp(); nil means time.Now.
	Now func() time.Time
}

// evaluator holds the values of one plan or run. Values are written only by
// the goroutine that walks the graph; workers read the EvalContexts built
// from them, which are never changed afterwards.
type evaluator struct {
	w *Workflow
	// ctx is what lua:: calls run under (lang.Scope.Context): when it
	// ends, a running function stops and the expression calling it fails
	// (see interruption).
	ctx      context.Context
	planning bool
	funcs    map[string]function.Function // the workflow's
	// scopeFuncs are the functions of each scope, by its libraries (a
	// module's lua:: functions are its own).
	scopeFuncs map[*lua.Libraries]map[string]function.Function
	values     []cty.Value // by node index; cty.NilVal until evaluated
	shard      Shard       // a run's: module.NAME holds its instances (see Shard.runs)
	varObj     cty.Value
}

func newEvaluator(ctx context.Context, w *Workflow, in Inputs, planning bool) *evaluator {
	funcs := w.functions(ctx, in)
	e := &evaluator{w: w, ctx: ctx, planning: planning, funcs: funcs[w.libs], scopeFuncs: funcs, values: make([]cty.Value, len(w.nodes))}
	vars := make(map[string]cty.Value, len(w.cfg.Variables))
	for _, n := range w.nodes {
		if n.variable == nil { // the workflow's; a module's are inputs
			continue
		}
		v, ok := in.Variables[n.addr.Name]
		if !ok {
			v = cty.UnknownVal(n.variable.Type)
		}
		vars[n.addr.Name] = v
		e.values[n.index] = v
	}
	e.varObj = cty.ObjectVal(vars)
	return e
}

// interruption reports whether diags fail only because e.ctx ended (see
// lang.Interrupted): the expression is interrupted, not wrong.
func (e *evaluator) interruption(diags hcl.Diagnostics) bool {
	return lang.Interrupted(e.ctx, diags)
}

// firstStop keeps, of the diagnostics of the calls ctx ending stopped,
// only the first, which says where evaluation was when it ended (a lua::
// function that loops for ever): the calls after it were stopped before
// they started.
func firstStop(ctx context.Context, diags hcl.Diagnostics) hcl.Diagnostics {
	var out hcl.Diagnostics
	seen := false
	for _, d := range diags {
		if lang.Stopped(ctx, d) {
			if seen {
				continue
			}
			seen = true
		}
		out = append(out, d)
	}
	return out
}

// evalContext builds the context a node's expressions are evaluated in,
// holding only what the node refers to, so that building it costs as much
// as the node's own references, whatever the size of the workflow. The
// references are resolved in the node's scope: the workflow, or the
// module instance it belongs to (the calling one for a module's input).
func (e *evaluator) evalContext(n *node) *hcl.EvalContext {
	s := n.refIn
	vars := map[string]cty.Value{}
	if s.top() {
		vars["var"] = e.varObj
	}
	var objs map[lang.Kind]map[string]cty.Value
	for _, r := range n.refs {
		switch r.Addr.Kind {
		case lang.KindEach:
			continue
		case lang.KindVariable:
			if s.top() {
				continue
			}
		}
		dep := s.nodes[r.Addr]
		if dep == nil {
			continue
		}
		v := e.values[dep.index]
		if dep.module != nil && v == cty.NilVal {
			// A node that waits only for the outputs it reads comes
			// before module.NAME: gather them now (the others unknown).
			v = dep.module.value(e.values, e.shard)
		}
		if v == cty.NilVal {
			v = cty.DynamicVal
		}
		if objs == nil {
			objs = map[lang.Kind]map[string]cty.Value{}
		}
		m := objs[r.Addr.Kind]
		if m == nil {
			m = map[string]cty.Value{}
			objs[r.Addr.Kind] = m
		}
		m[r.Addr.Name] = v
	}
	for kind, m := range objs {
		vars[string(kind)] = cty.ObjectVal(m)
	}
	if n.input != nil && n.scope.each != cty.NilVal {
		vars["each"] = n.scope.each
	}
	return &hcl.EvalContext{Variables: vars, Functions: e.scopeFuncs[s.libs]}
}

// evalValue evaluates a node that only computes a value: a local, a
// variable of a module instance, or module.NAME.
func (e *evaluator) evalValue(n *node) (cty.Value, hcl.Diagnostics) {
	switch {
	case n.local != nil:
		return e.evalLocal(n)
	case n.input != nil:
		return e.evalInput(n)
	case n.module != nil:
		return n.module.value(e.values, e.shard), nil
	}
	panic("evalValue of " + n.addr.String())
}

// evalInput evaluates a variable of a module instance: the input its
// module block sets, converted to the variable's type and validated, or
// the variable's default.
func (e *evaluator) evalInput(n *node) (cty.Value, hcl.Diagnostics) {
	in := n.input
	if in.attr == nil {
		return in.v.Default, nil
	}
	v, diags := in.attr.Expr.Value(e.evalContext(n))
	if diags.HasErrors() {
		return cty.DynamicVal, diags
	}
	conv, d := lang.InputValue(in.v, v, in.attr.Expr.Range(), e.scopeFuncs[n.scope.libs])
	for _, x := range d {
		x.Detail = n.scope.prefix + ": " + x.Detail
	}
	diags = append(diags, d...)
	if d.HasErrors() {
		return cty.DynamicVal, diags
	}
	return e.knownAfter(n, conv), diags
}

func (e *evaluator) evalLocal(n *node) (cty.Value, hcl.Diagnostics) {
	v, diags := n.local.Expr.Value(e.evalContext(n))
	if diags.HasErrors() {
		return cty.DynamicVal, diags
	}
	return e.knownAfter(n, v), diags
}

// knownAfter, while planning, marks the unknown parts of a node's value
// with the steps the node waits for.
func (e *evaluator) knownAfter(n *node, v cty.Value) cty.Value {
	if !e.planning {
		return v
	}
	return lang.WithKnownAfter(v, n.upstream)
}

// evalSession evaluates a session block. Missing credentials are not an
// error here: the Connector decides what it needs (the sandbox needs none).
func (e *evaluator) evalSession(n *node) (SessionConfig, hcl.Diagnostics) {
	s := SessionConfig{Name: n.session.Name}
	ctx := e.evalContext(n)
	var diags hcl.Diagnostics
	for _, a := range lang.SortedAttributes(n.session.Attrs) {
		v, d := a.Expr.Value(ctx)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		v, _ = v.UnmarkDeep()
		if !v.IsWhollyKnown() || v.IsNull() {
			continue
		}
		if a.Name == "rate_limit" {
			rate, d := rateLimit(v, a.Expr)
			diags = append(diags, d...)
			s.RateLimit = rate
			continue
		}
		str, err := convert.Convert(v, cty.String)
		if err != nil {
			// The value is deliberately not quoted: it may be a credential.
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid session attribute",
				Detail: fmt.Sprintf("%s must be a string, not %s.", a.Name, v.Type().FriendlyName()), Subject: a.Expr.Range().Ptr()})
			continue
		}
		val := str.AsString()
		switch a.Name {
		case "app_id":
			s.AppID = val
		case "app_key":
			s.AppKey = val
		case "app_secret_key":
			s.AppSecretKey = val
		case "access_token":
			s.AccessToken = val
		case "session_secret_key":
			s.SessionSecretKey = val
		case "refresh_token":
			s.RefreshToken = val
		case "api_url":
			s.APIURL = val
		case "circuit":
			s.Circuit = val
		}
	}
	return s, diags
}

// evalWhen evaluates the when of one instance.
func (e *evaluator) evalWhen(inst *instance) hcl.Diagnostics {
	st := inst.node.step
	inst.when = cty.True
	if st.When == nil {
		return nil
	}
	v, diags := st.When.Value(inst.evalCtx())
	if diags.HasErrors() {
		return diags
	}
	if !v.IsKnown() {
		inst.when = e.knownAfter(inst.node, cty.UnknownVal(cty.Bool).WithMarks(v.Marks()))
		return nil
	}
	v, _ = v.UnmarkDeep()
	b, err := convert.Convert(v, cty.Bool)
	if err != nil || b.IsNull() {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid when",
			Detail: "when must be true or false" + instanceSuffix(inst) + ".", Subject: st.When.Range().Ptr(),
			Expression: st.When, EvalContext: inst.evalCtx()}}
	}
	inst.when = b
	return nil
}

// evalParams evaluates the params of one instance into an object or map.
func evalParams(inst *instance) (cty.Value, hcl.Diagnostics) {
	call := inst.node.step.Call
	if call.Params == nil {
		return cty.EmptyObjectVal, nil
	}
	if t := inst.paramsTemplate(); t != nil {
		return t.value(inst.x, inst.index), nil // an object, as HCL makes it
	}
	v, diags := call.Params.Value(inst.evalCtx())
	if diags.HasErrors() {
		return cty.DynamicVal, diags
	}
	uv, _ := v.Unmark()
	if uv.IsNull() {
		return cty.EmptyObjectVal, diags
	}
	if uv.IsKnown() && !uv.Type().IsObjectType() && !uv.Type().IsMapType() {
		return cty.DynamicVal, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid params",
			Detail:  fmt.Sprintf("params must be an object of parameter names to values, not %s.", uv.Type().FriendlyName()),
			Subject: call.Params.Range().Ptr()})
	}
	return v, diags
}

func instanceSuffix(inst *instance) string {
	if inst.key == cty.NilVal || !inst.key.IsKnown() {
		return ""
	}
	return " for " + InstanceName(inst.node.addr, inst.key)
}

// InstanceName names one instance of a step: call.info[3] or
// call.info["ann"], or just call.info without a key.
func InstanceName(addr lang.Address, key cty.Value) string {
	if key == cty.NilVal {
		return addr.String()
	}
	if !key.IsKnown() {
		return addr.String() + "[*]"
	}
	if key.Type() == cty.Number {
		// Most keys are list indexes: format them without big.Float's
		// text conversion, as this runs for every call of a journaled run.
		if bf := key.AsBigFloat(); bf.IsInt() {
			if i, acc := bf.Int64(); acc == big.Exact {
				b := make([]byte, 0, len(addr.Module)+len(addr.Kind)+len(addr.Name)+25)
				if addr.Module != "" {
					b = append(append(b, addr.Module...), '.')
				}
				b = append(append(append(b, addr.Kind...), '.'), addr.Name...)
				b = append(strconv.AppendInt(append(b, '['), i, 10), ']')
				return string(b)
			}
		}
		return addr.String() + "[" + lang.NumberText(key.AsBigFloat()) + "]"
	}
	return addr.String() + "[" + lang.QuoteString(key.AsString()) + "]"
}

// evalOutput evaluates an output, refusing a sensitive value in an output
// not declared sensitive, as the value would be printed.
func (e *evaluator) evalOutput(n *node) (OutputValue, hcl.Diagnostics) {
	o := n.output
	out := OutputValue{Name: o.Name, Sensitive: o.Sensitive}
	v, diags := o.Value.Value(e.evalContext(n))
	if diags.HasErrors() {
		out.Value = cty.DynamicVal
		return out, diags
	}
	if lang.IsSensitive(v) && !o.Sensitive {
		return out, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Output refers to sensitive values",
			Detail:  fmt.Sprintf("output %q uses a sensitive value (a credential or a sensitive variable). Add sensitive = true to the output to confirm that it may be computed; it is then shown as (sensitive).", o.Name),
			Subject: o.Value.Range().Ptr()}}
	}
	if o.Sensitive {
		v = lang.Sensitive(v)
	}
	out.Value = e.knownAfter(n, v)
	return out, diags
}

// knownList joins addresses for messages.
func knownList(addrs []lang.Address) string {
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

// rateLimit reads a session's rate_limit: a number of calls per second
// above zero, or "unlimited" for no pacing at all.
func rateLimit(v cty.Value, expr hcl.Expression) (float64, hcl.Diagnostics) {
	bad := hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid rate_limit",
		Detail: fmt.Sprintf("rate_limit must be a number of calls per second above zero, such as 5 or 0.5, or \"unlimited\" to turn pacing off (without rate_limit a session makes at most %s calls/s).",
			strconv.FormatFloat(DefaultRateLimit, 'f', -1, 64)),
		Subject: expr.Range().Ptr()}}
	if v.Type() == cty.String && strings.EqualFold(strings.TrimSpace(v.AsString()), "unlimited") {
		return Unlimited, nil
	}
	num, err := convert.Convert(v, cty.Number)
	if err != nil {
		return 0, bad
	}
	f, _ := num.AsBigFloat().Float64()
	if f <= 0 || math.IsInf(f, 0) {
		return 0, bad
	}
	return f, nil
}
