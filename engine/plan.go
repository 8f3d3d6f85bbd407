package engine

import (
	"context"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/lang"
	"github.com/zclconf/go-cty/cty"
)

// Plan is what a run would do, worked out without calling the API: every
// step in the order it would run, with the parameters known so far.
// Values that wait for a result are unknown and carry the step they wait
// for (see lang.KnownAfter); sensitive values stay marked.
type Plan struct {
	Steps   []PlannedStep
	Outputs []OutputValue
}

// PlannedStep is one step of a plan.
type PlannedStep struct {
	Addr     lang.Address
	Kind     lang.StepKind // a call, or a script: one opaque step whose calls are made as it runs
	Method   string        // lang.ScriptMethod for a script
	Session  string        // a script's default session
	Paginate bool
	// ScriptFile is the .lua file of a script step, "" for inline source.
	ScriptFile string
	// ForEach is the for_each value, cty.NilVal without for_each; when it
	// is unknown, Instances holds one placeholder with an unknown key.
	ForEach   cty.Value
	Instances []PlannedInstance
	DependsOn []lang.Address
}

// PlannedInstance is one call of a planned step.
type PlannedInstance struct {
	Key    cty.Value // cty.NilVal without for_each; unknown for a placeholder
	When   cty.Value // cty.True, cty.False (skipped) or unknown
	Params cty.Value // an object; parts may be unknown or sensitive; null for a script
	Input  cty.Value // a script's input, null without one; cty.NilVal for a call
}

// Calls counts the calls the plan knows of, and the steps whose number of
// calls is not known yet. Script steps are not counted: see Scripts.
func (p *Plan) Calls() (known, pendingSteps int) {
	for _, s := range p.Steps {
		if s.Kind == lang.StepScript {
			continue
		}
		if s.ForEach != cty.NilVal && !s.ForEach.IsWhollyKnown() {
			pendingSteps++
			continue
		}
		for _, i := range s.Instances {
			if i.When.IsKnown() && i.When.False() {
				continue
			}
			known++
		}
	}
	return known, pendingSteps
}

// Plan evaluates the workflow with every result unknown: no call is made.
// It reports every error it can find without results (types, functions,
// parameters), so a clean plan means a run can fail only on what the API
// answers.
func (w *Workflow) Plan(ctx context.Context, in Inputs) (*Plan, hcl.Diagnostics) {
	return w.plan(ctx, in, false)
}

// check is what Run plans with: the diagnostics of Plan, without keeping
// the planned instances (see checkForEach), so that checking a batch of a
// million calls takes the memory of a few.
func (w *Workflow) check(ctx context.Context, in Inputs) hcl.Diagnostics {
	_, diags := w.plan(ctx, in, true)
	return diags
}

func (w *Workflow) plan(ctx context.Context, in Inputs, lean bool) (*Plan, hcl.Diagnostics) {
	e := newEvaluator(w, in, true)
	e.lean = lean
	p := &Plan{}
	var diags hcl.Diagnostics
	for _, n := range w.order {
		if ctx.Err() != nil {
			return p, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Interrupted", Detail: "Planning was interrupted."})
		}
		switch {
		case n.local != nil:
			v, d := e.evalLocal(n)
			diags = append(diags, d...)
			e.values[n.index] = v
		case n.session != nil:
			_, d := e.evalSession(n)
			diags = append(diags, d...)
		case n.step != nil:
			ps, v, d := e.planStep(n)
			diags = append(diags, d...)
			e.values[n.index] = v
			p.Steps = append(p.Steps, ps)
		case n.output != nil:
			o, d := e.evalOutput(n)
			diags = append(diags, d...)
			p.Outputs = append(p.Outputs, o)
		}
	}
	return p, diags
}

// planStep plans one step and returns the unknown value call.NAME holds
// until it runs.
func (e *evaluator) planStep(n *node) (PlannedStep, cty.Value, hcl.Diagnostics) {
	st := n.step
	if st.Script != nil {
		return e.planScript(n)
	}
	if e.lean {
		if v, d, ok := e.checkForEach(n); ok {
			return PlannedStep{Addr: n.addr, Kind: lang.StepCall, Method: st.Call.Method}, v, d
		}
	}
	ps := PlannedStep{Addr: n.addr, Kind: lang.StepCall, Method: st.Call.Method, Paginate: st.Call.Paginate, ForEach: cty.NilVal}
	v, diags := e.planInstances(n, &ps, func(inst *instance) (PlannedInstance, hcl.Diagnostics) {
		params, d := evalParams(inst)
		params = e.knownAfter(n, params)
		if !d.HasErrors() {
			d = append(d, checkParamsValue(inst, params)...)
		}
		return PlannedInstance{Params: params, Input: cty.NilVal}, d
	})
	return ps, v, diags
}

// planInstances plans what call and script steps share: it sets the
// step's session, depends_on and for_each in ps, expands it, and adds one
// instance per key, whose params or input plan gives. It returns the
// value the step holds until it runs: unknown, or a collection of
// unknown results (null for instances when skips).
func (e *evaluator) planInstances(n *node, ps *PlannedStep, plan func(*instance) (PlannedInstance, hcl.Diagnostics)) (cty.Value, hcl.Diagnostics) {
	st := n.step
	if n.sess != nil {
		ps.Session = n.sess.addr.Name
	}
	for _, r := range st.DependsOn {
		ps.DependsOn = append(ps.DependsOn, r.Addr)
	}
	unknown := lang.UnknownAfter(cty.DynamicPseudoType, n.addr)
	x, diags := e.expand(n)
	if diags.HasErrors() {
		return cty.DynamicVal, diags
	}
	if st.ForEach != nil {
		ps.ForEach = x.forEach
	}
	results := make([]cty.Value, len(x.instances))
	for i, inst := range x.instances {
		pi, d := plan(inst)
		diags = append(diags, d...)
		pi.Key, pi.When = inst.key, inst.when
		ps.Instances = append(ps.Instances, pi)
		results[i] = unknown
		if inst.when.IsKnown() && inst.when.False() {
			results[i] = cty.NullVal(cty.DynamicPseudoType)
		}
	}
	if x.unknown {
		return unknown, diags
	}
	return stepValue(x, results), diags
}

// checkParamsValue checks the parameters that are known while planning,
// so that a value the API cannot take (a null inside a list) is reported
// before anything runs.
func checkParamsValue(inst *instance, params cty.Value) hcl.Diagnostics {
	up, _ := params.Unmark()
	if !up.IsKnown() || up.IsNull() {
		return nil
	}
	var diags hcl.Diagnostics
	for it := up.ElementIterator(); it.Next(); {
		k, v := it.Element()
		if !v.IsWhollyKnown() || (v.Type() == cty.String && !v.IsMarked()) {
			continue // a known string is always sent as it is
		}
		if _, _, err := wireValue(v); err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid parameter",
				Detail:  "Parameter " + k.AsString() + instanceSuffix(inst) + ": " + err.Error() + ".",
				Subject: inst.node.step.Call.Params.Range().Ptr()})
		}
	}
	return diags
}
