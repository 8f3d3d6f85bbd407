package engine

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/lang"
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
	w        *Workflow
	planning bool
	lean     bool // planning for Run: see Workflow.check
	funcs    map[string]function.Function
	values   []cty.Value // by node index; cty.NilVal until evaluated
	varObj   cty.Value
}

func newEvaluator(w *Workflow, in Inputs, planning bool) *evaluator {
	scope := lang.Scope{Dir: w.cfg.Dir, Getenv: in.Getenv, Now: in.Now}
	e := &evaluator{w: w, planning: planning, funcs: scope.Functions(), values: make([]cty.Value, len(w.nodes))}
	vars := make(map[string]cty.Value, len(w.cfg.Variables))
	for _, n := range w.nodes {
		if n.variable == nil {
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

// evalContext builds the context a node's expressions are evaluated in,
// holding only what the node refers to, so that building it costs as much
// as the node's own references, whatever the size of the workflow.
func (e *evaluator) evalContext(n *node) *hcl.EvalContext {
	vars := map[string]cty.Value{"var": e.varObj}
	var locals, calls, scripts map[string]cty.Value
	for _, r := range n.refs {
		var m *map[string]cty.Value
		switch r.Addr.Kind {
		case lang.KindLocal:
			m = &locals
		case lang.KindCall:
			m = &calls
		case lang.KindScript:
			m = &scripts
		default:
			continue
		}
		dep := e.w.byAddr[r.Addr.String()]
		v := e.values[dep.index]
		if v == cty.NilVal {
			v = cty.DynamicVal
		}
		if *m == nil {
			*m = map[string]cty.Value{}
		}
		(*m)[r.Addr.Name] = v
	}
	if locals != nil {
		vars["local"] = cty.ObjectVal(locals)
	}
	if calls != nil {
		vars["call"] = cty.ObjectVal(calls)
	}
	if scripts != nil {
		vars["script"] = cty.ObjectVal(scripts)
	}
	return &hcl.EvalContext{Variables: vars, Functions: e.funcs}
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
			num, err := convert.Convert(v, cty.Number)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid rate_limit",
					Detail: "rate_limit must be a number of calls per second, such as 5 or 0.5.", Subject: a.Expr.Range().Ptr()})
				continue
			}
			f, _ := num.AsBigFloat().Float64()
			if f <= 0 {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid rate_limit",
					Detail: "rate_limit must be more than zero calls per second.", Subject: a.Expr.Range().Ptr()})
				continue
			}
			s.RateLimit = f
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

// keying says how the instances of a step are named.
type keying int

const (
	keyNone   keying = iota // no for_each: one instance
	keyIndex                // a list or tuple: each.key is the index
	keyString               // a map, object or set: each.key is a string
)

// instance is one call a step makes: the only one, or one per for_each
// element.
type instance struct {
	node  *node
	index int              // position within the step
	key   cty.Value        // cty.NilVal without for_each
	ctx   *hcl.EvalContext // with each bound
	when  cty.Value        // cty.True, cty.False or unknown (planning)
}

// expansion is a step expanded into its instances.
type expansion struct {
	keying    keying
	instances []*instance
	unknown   bool // planning: for_each is not known yet
	forEach   cty.Value
}

// expand evaluates for_each and when. A for_each that is unknown (while
// planning) gives one placeholder instance whose each is unknown.
func (e *evaluator) expand(n *node) (*expansion, hcl.Diagnostics) {
	st := n.step
	ctx := e.evalContext(n)
	x := &expansion{}
	if st.ForEach == nil {
		inst := &instance{node: n, key: cty.NilVal, ctx: ctx}
		diags := e.evalWhen(inst)
		x.instances = []*instance{inst}
		return x, diags
	}
	fe, el, diags := e.forEach(n, ctx)
	if diags.HasErrors() {
		return nil, diags
	}
	x.forEach = fe
	if el == nil {
		x.unknown = true
		inst := placeholder(n, ctx, fe)
		x.instances = []*instance{inst}
		return x, e.evalWhen(inst)
	}
	x.keying = el.keying
	x.instances = make([]*instance, 0, el.len())
	for i := range el.len() {
		inst := el.instance(n, ctx, i)
		if d := e.evalWhen(inst); d.HasErrors() {
			return nil, d
		}
		x.instances = append(x.instances, inst)
	}
	return x, nil
}

// placeholder is the one instance of a step whose for_each is not known
// yet (while planning): each is unknown.
func placeholder(n *node, ctx *hcl.EvalContext, fe cty.Value) *instance {
	_, marks := fe.Unmark()
	each := cty.ObjectVal(map[string]cty.Value{"key": cty.DynamicVal, "value": cty.DynamicVal}).WithMarks(marks)
	child := ctx.NewChild()
	child.Variables = map[string]cty.Value{"each": each}
	return &instance{node: n, key: cty.DynamicVal, ctx: child}
}

// elements are the elements of a known for_each: what each.key and
// each.value are for every instance, before the instances are made.
type elements struct {
	keying keying
	keys   []cty.Value // keyString: each.key of every element; nil for keyIndex, whose key is the index
	values []cty.Value // each.value of every element
}

func (el *elements) len() int { return len(el.values) }

// key returns each.key of element i.
func (el *elements) key(i int) cty.Value {
	if el.keys == nil {
		return cty.NumberIntVal(int64(i))
	}
	return el.keys[i]
}

// instance makes the instance of element i, with each bound in a child
// of the step's context.
func (el *elements) instance(n *node, ctx *hcl.EvalContext, i int) *instance {
	key := el.key(i)
	child := ctx.NewChild()
	child.Variables = map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{"key": key, "value": el.values[i]})}
	return &instance{node: n, index: i, key: key, ctx: child}
}

// forEach evaluates the for_each of n and checks it. While planning, a
// for_each not known yet gives no elements and no error.
func (e *evaluator) forEach(n *node, ctx *hcl.EvalContext) (cty.Value, *elements, hcl.Diagnostics) {
	st := n.step
	fe, diags := st.ForEach.Value(ctx)
	if diags.HasErrors() {
		return fe, nil, diags
	}
	fe = e.knownAfter(n, fe)
	if lang.IsSensitive(fe) {
		return fe, nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Sensitive for_each",
			Detail:  "for_each may not use sensitive values: instance keys are shown in plans and progress. Use a value that is not sensitive.",
			Subject: st.ForEach.Range().Ptr()}}
	}
	unknown := func() (cty.Value, *elements, hcl.Diagnostics) {
		if !e.planning {
			return fe, nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Unknown for_each", Detail: "for_each is not known.", Subject: st.ForEach.Range().Ptr()}}
		}
		return fe, nil, nil
	}
	ufe, _ := fe.Unmark()
	if !ufe.IsKnown() {
		return unknown()
	}
	if ufe.IsNull() {
		return fe, nil, forEachTypeError(st, "null")
	}
	el := &elements{}
	ty := ufe.Type()
	switch {
	case ty.IsListType() || ty.IsTupleType():
		el.keying = keyIndex
	case ty.IsMapType() || ty.IsObjectType():
		el.keying = keyString
	case ty.IsSetType():
		el.keying = keyString
		if !ty.ElementType().Equals(cty.String) {
			if _, err := convert.Convert(ufe, cty.Set(cty.String)); err != nil {
				return fe, nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid for_each",
					Detail:  "A set given to for_each must hold strings, which become each.key and each.value. Use a list to iterate over other values.",
					Subject: st.ForEach.Range().Ptr()}}
			}
		}
	default:
		return fe, nil, forEachTypeError(st, ty.FriendlyName())
	}
	if !ufe.IsWhollyKnown() && ty.IsSetType() {
		return unknown()
	}
	count := ufe.LengthInt()
	el.values = make([]cty.Value, 0, count)
	if el.keying == keyString {
		el.keys = make([]cty.Value, 0, count)
	}
	for it := ufe.ElementIterator(); it.Next(); {
		k, v := it.Element()
		switch {
		case el.keying == keyIndex:
		case ty.IsSetType():
			sv, _ := convert.Convert(v, cty.String)
			el.keys = append(el.keys, sv)
			v = sv
		default:
			el.keys = append(el.keys, k)
		}
		el.values = append(el.values, v)
	}
	return fe, el, nil
}

func forEachTypeError(st *lang.Step, got string) hcl.Diagnostics {
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid for_each",
		Detail:  fmt.Sprintf("for_each must be a list, a map, an object or a set of strings, not %s.", got),
		Subject: st.ForEach.Range().Ptr()}}
}

// evalWhen evaluates the when of one instance.
func (e *evaluator) evalWhen(inst *instance) hcl.Diagnostics {
	st := inst.node.step
	inst.when = cty.True
	if st.When == nil {
		return nil
	}
	v, diags := st.When.Value(inst.ctx)
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
			Expression: st.When, EvalContext: inst.ctx}}
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
	v, diags := call.Params.Value(inst.ctx)
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
				b := make([]byte, 0, len(addr.Kind)+len(addr.Name)+24)
				b = append(append(append(b, addr.Kind...), '.'), addr.Name...)
				b = append(strconv.AppendInt(append(b, '['), i, 10), ']')
				return string(b)
			}
		}
		return addr.String() + "[" + lang.NumberText(key.AsBigFloat()) + "]"
	}
	return addr.String() + "[" + lang.QuoteString(key.AsString()) + "]"
}

// stepValue assembles what call.NAME holds once every instance has a
// result: {result = ...} without for_each, a tuple of them in order for a
// list, an object of them by key for a map or a set.
func stepValue(x *expansion, results []cty.Value) cty.Value {
	return assembleStep(x.keying, results, func(i int) string { return x.instances[i].key.AsString() })
}

// assembleStep is stepValue given the keying and, for keyString, each
// instance's key.
func assembleStep(k keying, results []cty.Value, key func(i int) string) cty.Value {
	wrap := func(r cty.Value) cty.Value { return cty.ObjectVal(map[string]cty.Value{"result": r}) }
	switch k {
	case keyNone:
		return wrap(results[0])
	case keyIndex:
		if len(results) == 0 {
			return cty.EmptyTupleVal
		}
		elems := make([]cty.Value, len(results))
		for i, r := range results {
			elems[i] = wrap(r)
		}
		return cty.TupleVal(elems)
	}
	if len(results) == 0 {
		return cty.EmptyObjectVal
	}
	attrs := make(map[string]cty.Value, len(results))
	for i, r := range results {
		attrs[key(i)] = wrap(r)
	}
	return cty.ObjectVal(attrs)
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
