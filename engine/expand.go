package engine

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/okru-run/okru-run/lang"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// MaxInstances is the most instances one step may have. Beyond it the
// for_each value alone takes gigabytes (every key and value is held while
// the step runs), so a larger batch is refused with advice to split it.
const MaxInstances = 1_000_000

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
	index int       // position within the step
	key   cty.Value // cty.NilVal without for_each
	// x is the expansion the instance is of, which binds its each; nil
	// without for_each.
	x    *expanded
	ctx  *hcl.EvalContext // with each bound; made when first asked (evalCtx)
	when cty.Value        // cty.True, cty.False or unknown (planning)
}

// evalCtx returns the context the instance's expressions are evaluated
// in: the step's, with each bound. It is made on first use, as params
// that need no HCL (see paramsTemplate) do not use it; an instance is
// used by one goroutine at a time.
func (inst *instance) evalCtx() *hcl.EvalContext {
	if inst.ctx == nil && inst.x != nil {
		inst.ctx = inst.x.eachContext(inst.index)
	}
	return inst.ctx
}

// paramsTemplate returns the template of the instance's params when they
// are made without HCL; nil otherwise.
func (inst *instance) paramsTemplate() *paramsTemplate {
	if inst.x == nil || inst.x.pending != cty.NilVal {
		return nil
	}
	return inst.x.params
}

// expanded is a step whose for_each has been evaluated: how its instances
// are keyed and what each.key and each.value are for every one. It is the
// one representation of an expanded step, for plans, checks and runs. It
// makes an instance (with its evaluation context) only when asked, so a
// step of a million elements holds its elements, not a million contexts.
type expanded struct {
	n      *node
	ctx    *hcl.EvalContext // the step's context, without each
	keying keying
	keys   []cty.Value // keyString: each.key of every element; nil otherwise
	values []cty.Value // each.value of every element; nil without for_each
	// pending, while planning, is a for_each not known yet: the step has
	// one placeholder instance whose each is unknown. cty.NilVal otherwise.
	pending cty.Value
	// known says every key and value is wholly known, so a run can reuse
	// the expansion its check made (see Workflow.check).
	known bool
	// params makes a call's params without HCL, when they have the form
	// paramsTemplate reads; nil otherwise.
	params *paramsTemplate
}

func (x *expanded) len() int {
	if x.keying == keyNone || x.pending != cty.NilVal {
		return 1
	}
	return len(x.values)
}

// key returns each.key of instance i: cty.NilVal without for_each, an
// unknown value for the placeholder of a pending for_each.
func (x *expanded) key(i int) cty.Value {
	switch {
	case x.pending != cty.NilVal:
		return cty.DynamicVal
	case x.keying == keyNone:
		return cty.NilVal
	case x.keying == keyIndex:
		return cty.NumberIntVal(int64(i))
	}
	return x.keys[i]
}

// value returns each.value of instance i (a pending or absent for_each has
// none).
func (x *expanded) value(i int) cty.Value {
	if x.values == nil || x.pending != cty.NilVal {
		return cty.DynamicVal
	}
	return x.values[i]
}

// instance makes instance i. Its context, with each bound in a child of
// the step's, is made when it is first needed (instance.evalCtx).
func (x *expanded) instance(i int) *instance {
	if x.keying == keyNone && x.pending == cty.NilVal {
		return &instance{node: x.n, key: cty.NilVal, ctx: x.ctx}
	}
	return &instance{node: x.n, index: i, key: x.key(i), x: x}
}

// eachContext makes the context of instance i: a child of the step's
// context binding each.
func (x *expanded) eachContext(i int) *hcl.EvalContext {
	var each cty.Value
	if x.pending != cty.NilVal {
		_, marks := x.pending.Unmark()
		each = cty.ObjectVal(map[string]cty.Value{"key": cty.DynamicVal, "value": cty.DynamicVal}).WithMarks(marks)
	} else {
		each = cty.ObjectVal(map[string]cty.Value{"key": x.key(i), "value": x.values[i]})
	}
	child := x.ctx.NewChild()
	child.Variables = map[string]cty.Value{"each": each}
	return child
}

// stepValue assembles what call.NAME holds once every instance has a
// result: {result = ...} without for_each, a tuple of them in order for a
// list, an object of them by key for a map or a set.
func (x *expanded) stepValue(results []cty.Value) cty.Value {
	wrapped := make([]cty.Value, len(results))
	for i, r := range results {
		wrapped[i] = cty.ObjectVal(map[string]cty.Value{"result": r})
	}
	return x.assemble(wrapped)
}

// assemble is stepValue given each instance's {result = ...}.
func (x *expanded) assemble(wrapped []cty.Value) cty.Value {
	switch x.keying {
	case keyNone:
		return wrapped[0]
	case keyIndex:
		if len(wrapped) == 0 {
			return cty.EmptyTupleVal
		}
		return cty.TupleVal(wrapped)
	}
	if len(wrapped) == 0 {
		return cty.EmptyObjectVal
	}
	attrs := make(map[string]cty.Value, len(wrapped))
	for i, r := range wrapped {
		attrs[x.keys[i].AsString()] = r
	}
	return cty.ObjectVal(attrs)
}

// expand evaluates the for_each of step n, once: every instance of the step
// is made from what it returns. While planning, a for_each not known yet
// gives a pending expansion and no error.
func (e *evaluator) expand(n *node) (*expanded, hcl.Diagnostics) {
	x := &expanded{n: n, ctx: e.evalContext(n), pending: cty.NilVal, known: true}
	st := n.step
	if st.ForEach == nil {
		return x, nil
	}
	x.params = stepParamsTemplate(n, x.ctx)
	fe, keys, diags := e.evalForEach(st.ForEach, x.ctx)
	if diags.HasErrors() {
		return nil, diags
	}
	fe = e.knownAfter(n, fe)
	if lang.IsMarkedSensitive(fe) {
		return nil, sensitiveForEach(st)
	}
	ufe, _ := fe.Unmark()
	if !ufe.IsKnown() {
		return e.pendingForEach(x, fe, diags)
	}
	if ufe.IsNull() {
		return nil, forEachTypeError(st, "null")
	}
	ty := ufe.Type()
	switch {
	case ty.IsListType() || ty.IsTupleType():
		x.keying = keyIndex
	case ty.IsMapType() || ty.IsObjectType() || ty.IsSetType():
		x.keying = keyString
	default:
		return nil, forEachTypeError(st, ty.FriendlyName())
	}
	count := ufe.LengthInt()
	if keys != nil {
		count = len(keys)
	}
	if count > MaxInstances {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Too many instances",
			Detail: fmt.Sprintf("for_each has %d elements; a step may have at most %d instances, as every key and value is held in memory while the step runs. Split the keys over several runs or steps (for example with slice()).",
				count, MaxInstances),
			Subject: st.ForEach.Range().Ptr()}}
	}
	if keys != nil {
		// toset of known strings, deduplicated and sorted by evalForEach.
		x.keys, x.values = keys, keys
		return x, append(diags, x.checkKeys()...)
	}
	x.values = make([]cty.Value, 0, count)
	if x.keying == keyString {
		x.keys = make([]cty.Value, 0, count)
	}
	setOfStrings := ty.IsSetType() && ty.ElementType().Equals(cty.String)
	// One pass over the elements: a set is sorted by cty on every
	// iteration, so it is iterated exactly once.
	for it := ufe.ElementIterator(); it.Next(); {
		k, v := it.Element()
		if lang.IsSensitive(v) {
			return nil, sensitiveForEach(st)
		}
		switch {
		case x.keying == keyIndex:
		case ty.IsSetType():
			if !v.IsKnown() {
				return e.pendingForEach(x, fe, diags)
			}
			if !setOfStrings {
				sv, err := convert.Convert(v, cty.String)
				if err != nil {
					return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid for_each",
						Detail:  "A set given to for_each must hold strings, which become each.key and each.value. Use a list to iterate over other values.",
						Subject: st.ForEach.Range().Ptr()}}
				}
				v = sv
			}
			x.keys = append(x.keys, v)
		default:
			x.keys = append(x.keys, k)
		}
		if x.known && !v.IsWhollyKnown() {
			x.known = false
		}
		x.values = append(x.values, v)
	}
	return x, append(diags, x.checkKeys()...)
}

// stepParamsTemplate returns the params template of call step n, in its
// context ctx, or nil (see newParamsTemplate).
func stepParamsTemplate(n *node, ctx *hcl.EvalContext) *paramsTemplate {
	if call := n.step.Call; call != nil && call.Params != nil {
		return newParamsTemplate(call.Params, ctx)
	}
	return nil
}

// pendingForEach makes x the placeholder expansion of a for_each not
// known yet; it is an error outside planning.
func (e *evaluator) pendingForEach(x *expanded, fe cty.Value, diags hcl.Diagnostics) (*expanded, hcl.Diagnostics) {
	if !e.planning {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Unknown for_each", Detail: "for_each is not known.",
			Subject: x.n.step.ForEach.Range().Ptr()}}
	}
	x.keying, x.pending, x.known = keyString, fe, false
	return x, diags
}

// evalForEach evaluates a for_each expression. The common
// toset(list of strings), as written for a keys file, is done here rather
// than by cty: cty sorts a set each time it is iterated with a costly
// comparison, which made a step of 100,000 keys take seconds; sorting and
// deduplicating the strings directly gives the same keys in the same
// order. keys is then the set's elements; otherwise it is nil and the
// value is the for_each.
func (e *evaluator) evalForEach(expr hcl.Expression, ctx *hcl.EvalContext) (cty.Value, []cty.Value, hcl.Diagnostics) {
	call, ok := expr.(*hclsyntax.FunctionCallExpr)
	if !ok || call.Name != "toset" || len(call.Args) != 1 || call.ExpandFinal {
		v, diags := expr.Value(ctx)
		return v, nil, diags
	}
	arg, diags := call.Args[0].Value(ctx)
	if diags.HasErrors() {
		return cty.DynamicVal, nil, diags
	}
	if keys, dups, ok := stringSet(arg); ok {
		if dups > 0 {
			diags = append(diags, duplicateKeys(expr, dups, len(keys)))
		}
		return cty.SetValEmpty(cty.String), keys, diags
	}
	v, err := e.funcs["toset"].Call([]cty.Value{arg})
	if err != nil {
		return cty.DynamicVal, nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Error in function call",
			Detail: "Call to function \"toset\" failed: " + err.Error() + ".", Subject: expr.Range().Ptr(), Expression: expr, EvalContext: ctx})
	}
	return v, nil, diags
}

// stringSet returns the distinct strings of a known, unmarked list or
// tuple of known strings, sorted as cty sorts a set of strings (by bytes),
// and how many repeats were dropped; ok is false for any other value.
func stringSet(v cty.Value) (keys []cty.Value, dups int, ok bool) {
	if v.IsMarked() || !v.IsKnown() || v.IsNull() || !(v.Type().IsListType() || v.Type().IsTupleType()) {
		return nil, 0, false
	}
	strs := make([]string, 0, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		if ev.IsMarked() || !ev.IsKnown() || ev.IsNull() || ev.Type() != cty.String {
			return nil, 0, false
		}
		strs = append(strs, ev.AsString())
	}
	slices.Sort(strs)
	uniq := slices.Compact(strs)
	keys = make([]cty.Value, len(uniq))
	for i, s := range uniq {
		keys[i] = cty.StringVal(s)
	}
	return keys, len(strs) - len(uniq), true
}

// duplicateKeys warns that toset dropped repeated values: a keys file
// with repeated lines makes fewer calls than it has lines.
func duplicateKeys(expr hcl.Expression, dups, kept int) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Duplicate for_each keys",
		Detail: fmt.Sprintf("toset dropped %s, so the step has %s, one per distinct key. Remove the repeats from the input (for example a keys file) if they are a mistake.",
			pluralize(dups, "repeated value"), pluralize(kept, "instance")),
		Subject: expr.Range().Ptr()}
}

// checkKeys refuses keys that cannot name an instance: an empty key (a
// blank line of a keys file, or an empty file) and keys holding control
// characters (a NUL, a newline, a carriage return from a file with Windows
// line endings), which would break plans, progress and journals. It warns
// of a for_each that is known to be empty.
func (x *expanded) checkKeys() hcl.Diagnostics {
	st := x.n.step
	if len(x.values) == 0 {
		return hcl.Diagnostics{{Severity: hcl.DiagWarning, Summary: "Empty for_each",
			Detail:  fmt.Sprintf("for_each is empty, so %s makes no call. If its keys come from a file, check that the file is not empty.", x.n.addr),
			Subject: st.ForEach.Range().Ptr()}}
	}
	for i, k := range x.keys {
		s := k.AsString()
		if s == "" {
			return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid for_each key",
				Detail:  fmt.Sprintf("for_each element %d has an empty key. An empty keys file, or a blank line in one, gives an empty key: use compact() to drop empty strings, or fix the input.", i),
				Subject: st.ForEach.Range().Ptr()}}
		}
		if r, ok := controlRune(s); ok {
			return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid for_each key",
				Detail: fmt.Sprintf("for_each key %s holds the control character %s, which cannot be shown in plans and progress. Keys from a file with Windows line endings end with \\r: use trimspace() on each key, or fix the input.",
					lang.QuoteString(s), strconv.QuoteRune(r)),
				Subject: st.ForEach.Range().Ptr()}}
		}
	}
	return nil
}

// controlRune returns the first control character of s other than a tab,
// or an invalid UTF-8 byte.
func controlRune(s string) (rune, bool) {
	i := strings.IndexFunc(s, func(r rune) bool { return (r < 0x20 && r != '\t') || r == 0x7f || r == utf8.RuneError })
	if i < 0 {
		return 0, false
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return r, true
}

func sensitiveForEach(st *lang.Step) hcl.Diagnostics {
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Sensitive for_each",
		Detail:  "for_each may not use sensitive values: instance keys are shown in plans and progress. Use a value that is not sensitive.",
		Subject: st.ForEach.Range().Ptr()}}
}

func forEachTypeError(st *lang.Step, got string) hcl.Diagnostics {
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid for_each",
		Detail:  fmt.Sprintf("for_each must be a list, a map, an object or a set of strings, not %s.", got),
		Subject: st.ForEach.Range().Ptr()}}
}
