package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/lang"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Assertions at run time and in plans: the preconditions of an instance
// are evaluated before it is called (a false one skips the call and fails
// the instance), its postconditions on its result (a false one fails the
// instance as an API error would), and check blocks once the steps they
// refer to are done (a false one warns, or fails the run with
// Options.StrictChecks).

// PlannedAssertion is one assertion of a plan: its value is cty.True or
// cty.False when the plan knows it, else unknown and marked with the steps
// it waits for (lang.KnownAfter).
type PlannedAssertion struct {
	Kind    string // "precondition", "postcondition" or "assert"
	Value   cty.Value
	Message string // the error_message, when known
	Range   hcl.Range
}

// PlannedCheck is a check block of a plan.
type PlannedCheck struct {
	Name    string       // the block's name
	Addr    lang.Address // check.NAME, with its module instance in a module
	Asserts []PlannedAssertion
}

// CheckResult is how a check block ended in a run.
type CheckResult struct {
	Name string       // the block's name
	Addr lang.Address // check.NAME, with its module instance in a module
	// Failed holds the messages of its failed asserts; Skipped says it
	// could not be evaluated because a step it refers to did not finish.
	Failed  []string
	Skipped bool
	// Diags are the diagnostics of its failed asserts, as the run's
	// diagnostics hold them: warnings, or errors with StrictChecks.
	Diags hcl.Diagnostics
}

// Passed reports whether every assert of the check held.
func (c CheckResult) Passed() bool { return !c.Skipped && len(c.Failed) == 0 }

// AssertionError is the error of an instance whose precondition or
// postcondition is false.
type AssertionError struct {
	Kind    string // "precondition" or "postcondition"
	Message string // the error_message
}

func (e *AssertionError) Error() string { return e.Kind + " failed: " + e.Message }

// conditionValue evaluates an assertion's condition: cty.True, cty.False,
// or (planning) an unknown bool. A value that is not a bool is an error.
func conditionValue(cond *lang.Condition, ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	v, diags := cond.Condition.Value(ctx)
	if diags.HasErrors() {
		return cty.UnknownVal(cty.Bool), diags
	}
	b, d := cond.Bool(v)
	if d != nil {
		return cty.UnknownVal(cty.Bool), append(diags, d)
	}
	return b, diags
}

// errorMessage evaluates an assertion's error_message; a message that
// cannot be evaluated, or holds a secret, is replaced by a note saying so.
func errorMessage(cond *lang.Condition, ctx *hcl.EvalContext) string {
	v, diags := cond.ErrorMessage.Value(ctx)
	if diags.HasErrors() {
		return "(the error_message could not be evaluated: " + diagText(diags) + ")"
	}
	if lang.IsSensitive(v) {
		return "(the error_message uses a sensitive value and is not shown)"
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil || s.IsNull() || !s.IsKnown() {
		return lang.FormatValue(v, 0)
	}
	return s.AsString()
}

// conditionValues shows the values a condition read, one per line, as
// "call.x.result.count = 5"; sensitive values show as (sensitive).
func conditionValues(cond *lang.Condition, ctx *hcl.EvalContext) string {
	var lines []string
	for _, tr := range cond.Condition.Variables() {
		v, d := tr.TraverseAbs(ctx)
		if d.HasErrors() {
			continue
		}
		line := "  " + lang.TraversalString(tr) + " = " + shortValue(v)
		if !slices.Contains(lines, line) {
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return "\n\nwith\n" + strings.Join(lines, "\n")
}

// shortValue shows a value read by a condition: in full when it is short,
// else its type and length, as a long list would hide the message.
func shortValue(v cty.Value) string {
	s := lang.FormatValue(v, 4)
	if strings.Count(s, "\n") < 8 && len(s) < 400 {
		return s
	}
	uv, _ := v.Unmark()
	if uv.CanIterateElements() {
		return fmt.Sprintf("(%s of %d elements)", uv.Type().FriendlyName(), uv.LengthInt())
	}
	return s[:min(len(s), 400)] + "..."
}

// assertionFailed is the diagnostic of a false assertion.
func assertionFailed(cond *lang.Condition, ctx *hcl.EvalContext, severity hcl.DiagnosticSeverity, subject string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: severity, Summary: capitalize(cond.Kind) + " failed",
		Detail:  subject + ": " + errorMessage(cond, ctx) + conditionValues(cond, ctx),
		Subject: cond.DeclRange.Ptr()}
}

// selfContext is ctx with self.result bound to an instance's result.
func selfContext(ctx *hcl.EvalContext, result cty.Value) *hcl.EvalContext {
	vars := make(map[string]cty.Value, len(ctx.Variables)+1)
	for k, v := range ctx.Variables {
		vars[k] = v
	}
	vars["self"] = cty.ObjectVal(map[string]cty.Value{"result": result})
	return &hcl.EvalContext{Variables: vars, Functions: ctx.Functions}
}

// checkConditions evaluates conds in ctx: the first false one, or any
// evaluation error, makes diagnostics and an error.
func checkConditions(conds []*lang.Condition, ctx *hcl.EvalContext, subject string) (error, hcl.Diagnostics) {
	for _, cond := range conds {
		v, diags := conditionValue(cond, ctx)
		if diags.HasErrors() {
			return &EvalError{Diags: diags}, diags
		}
		if v.IsKnown() && v.False() {
			return &AssertionError{Kind: cond.Kind, Message: errorMessage(cond, ctx)},
				hcl.Diagnostics{assertionFailed(cond, ctx, hcl.DiagError, subject)}
		}
	}
	return nil, nil
}

// executeAsserted runs one instance between its assertions: a false
// precondition skips the call, a false postcondition fails the instance
// after it. It runs on a worker, as execute does.
func (r *runner) executeAsserted(ctx context.Context, inst *instance) result {
	st := inst.node.step
	if len(st.Preconditions) > 0 {
		if err, d := checkConditions(st.Preconditions, inst.evalCtx(), InstanceName(inst.node.addr, inst.key)); err != nil {
			return result{inst: inst, err: err, diags: d}
		}
	}
	res := r.execute(ctx, inst)
	if len(st.Postconditions) == 0 || res.err != nil || res.diags.HasErrors() || res.replay == replayUnknown {
		return res
	}
	res.err, res.diags = checkConditions(st.Postconditions, selfContext(inst.evalCtx(), res.value), InstanceName(inst.node.addr, inst.key))
	return res
}

// runCheck evaluates a check block once the steps it refers to are done.
func (r *runner) runCheck(n *node) {
	ch := n.check
	res := CheckResult{Name: ch.Name, Addr: n.addr}
	ctx := r.evalContext(n)
	severity := hcl.DiagWarning
	if r.opts.StrictChecks {
		severity = hcl.DiagError
	}
	for _, a := range ch.Asserts {
		v, diags := conditionValue(a, ctx)
		if r.interruption(diags) {
			// Stopped with the run: not evaluated, as when a step it
			// refers to did not run.
			r.diags = append(r.diags, res.Diags...)
			r.checks = append(r.checks, CheckResult{Name: ch.Name, Addr: n.addr, Skipped: true})
			return
		}
		if diags.HasErrors() {
			res.Failed = append(res.Failed, diagText(diags))
			for _, d := range diags {
				c := *d
				c.Severity = severity
				res.Diags = append(res.Diags, &c)
			}
			continue
		}
		if v.False() {
			res.Failed = append(res.Failed, errorMessage(a, ctx))
			res.Diags = append(res.Diags, assertionFailed(a, ctx, severity, n.addr.String()))
		}
	}
	if !res.Passed() && r.opts.StrictChecks {
		r.failures++
	}
	r.diags = append(r.diags, res.Diags...)
	r.checks = append(r.checks, res)
}

// skippedChecks records the checks that could not be evaluated because
// a step they refer to failed or did not run.
func (r *runner) skippedChecks() {
	for _, n := range r.w.nodes {
		if n.check == nil || r.done[n.index] {
			continue
		}
		r.checks = append(r.checks, CheckResult{Name: n.check.Name, Addr: n.addr, Skipped: true})
	}
}

// planConditions plans the assertions of one instance: a value that is
// known and not a bool is an error, and the value of each, known or not,
// goes into the plan.
func (e *evaluator) planConditions(inst *instance) ([]PlannedAssertion, hcl.Diagnostics) {
	st := inst.node.step
	if len(st.Preconditions)+len(st.Postconditions) == 0 {
		return nil, nil
	}
	var out []PlannedAssertion
	var diags hcl.Diagnostics
	add := func(conds []*lang.Condition, ctx *hcl.EvalContext, after []lang.Address) {
		for _, cond := range conds {
			v, d := conditionValue(cond, ctx)
			diags = append(diags, d...)
			pa := PlannedAssertion{Kind: cond.Kind, Value: lang.WithKnownAfter(v, after), Range: cond.DeclRange}
			if mv, dd := cond.ErrorMessage.Value(ctx); !dd.HasErrors() && mv.IsWhollyKnown() && !lang.IsSensitive(mv) {
				pa.Message = errorMessage(cond, ctx)
			}
			out = append(out, pa)
		}
	}
	add(st.Preconditions, inst.evalCtx(), inst.node.upstream)
	self := selfContext(inst.evalCtx(), lang.UnknownAfter(cty.DynamicPseudoType, inst.node.addr))
	add(st.Postconditions, self, append(slices.Clone(inst.node.upstream), inst.node.addr))
	return out, diags
}

// planCheck plans a check block.
func (e *evaluator) planCheck(n *node) (PlannedCheck, hcl.Diagnostics) {
	pc := PlannedCheck{Name: n.check.Name, Addr: n.addr}
	ctx := e.evalContext(n)
	var diags hcl.Diagnostics
	for _, a := range n.check.Asserts {
		v, d := conditionValue(a, ctx)
		diags = append(diags, d...)
		pa := PlannedAssertion{Kind: a.Kind, Value: e.knownAfter(n, v), Range: a.DeclRange}
		if mv, dd := a.ErrorMessage.Value(ctx); !dd.HasErrors() && mv.IsWhollyKnown() && !lang.IsSensitive(mv) {
			pa.Message = errorMessage(a, ctx)
		}
		pc.Asserts = append(pc.Asserts, pa)
	}
	return pc, diags
}

// keptSteps returns the values of the steps that finished, when
// Options.KeepResults asked for them.
func (r *runner) keptSteps() map[lang.Address]cty.Value {
	if !r.opts.KeepResults {
		return nil
	}
	out := map[lang.Address]cty.Value{}
	for _, n := range r.w.nodes {
		if n.step != nil && r.done[n.index] && r.values[n.index] != cty.NilVal {
			out[n.addr] = r.values[n.index]
		}
	}
	return out
}

// CheckAssert evaluates one assert block in ctx, for okru-run test: it
// reports whether it holds, and when not, diagnostics with its
// error_message and the values it read (subject names what is checked).
func CheckAssert(cond *lang.Condition, ctx *hcl.EvalContext, subject string) (bool, hcl.Diagnostics) {
	v, diags := conditionValue(cond, ctx)
	if diags.HasErrors() {
		return false, diags
	}
	if !v.IsKnown() || v.False() {
		return false, hcl.Diagnostics{assertionFailed(cond, ctx, hcl.DiagError, subject)}
	}
	return true, nil
}
