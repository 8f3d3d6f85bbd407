package engine

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/lang"
	"github.com/zclconf/go-cty/cty"
)

// Plan is what a run would do, worked out without calling the API: every
// step in the order it would run, with the parameters known so far.
// Values that wait for a result are unknown and carry the step they wait
// for (see lang.KnownAfter); sensitive values stay marked.
type Plan struct {
	Sessions []PlannedSession
	Steps    []PlannedStep
	Outputs  []OutputValue
	Checks   []PlannedCheck // see assert.go
}

// PlannedSession is a session of a plan, with the pace its calls will keep.
type PlannedSession struct {
	Name string
	// RateLimit is the session's rate_limit in calls per second: 0 when
	// the workflow does not set it (DefaultRateLimit then applies), or
	// Unlimited.
	RateLimit float64
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
	// HasForEach says the step has a for_each.
	HasForEach bool
	// ForEach is a for_each not known yet (it waits for a call): Instances
	// then holds one placeholder with an unknown key. It is cty.NilVal
	// when for_each is known or absent.
	ForEach cty.Value
	// Instances are the planned instances in order: all of them, or the
	// first few of a sampled plan (see Workflow.PlanSample).
	Instances []PlannedInstance
	// Count is how many instances the step has (1 without for_each, 1
	// placeholder for a pending for_each); Skipped how many of them have
	// a when known to be false.
	Count, Skipped int
	DependsOn      []lang.Address
}

// PlannedInstance is one call of a planned step.
type PlannedInstance struct {
	Key    cty.Value // cty.NilVal without for_each; unknown for a placeholder
	When   cty.Value // cty.True, cty.False (skipped) or unknown
	Params cty.Value // an object; parts may be unknown or sensitive; null for a script
	Input  cty.Value // a script's input, null without one; cty.NilVal for a call
	// Assertions are the instance's preconditions, then postconditions.
	Assertions []PlannedAssertion
}

// Calls counts the calls the plan knows of, and the steps whose number of
// calls is not known yet. Script steps are not counted: see Scripts.
func (p *Plan) Calls() (known, pendingSteps int) {
	for _, s := range p.Steps {
		if s.Kind == lang.StepScript {
			continue
		}
		if s.ForEach != cty.NilVal {
			pendingSteps++
			continue
		}
		known += s.Count - s.Skipped
	}
	return known, pendingSteps
}

// Plan evaluates the workflow with every result unknown: no call is made.
// It reports every error it can find without results (types, functions,
// parameters), so a clean plan means a run can fail only on what the API
// answers. Each for_each is evaluated once; cancelling ctx stops planning
// between instances.
func (w *Workflow) Plan(ctx context.Context, in Inputs) (*Plan, hcl.Diagnostics) {
	p, _, diags := w.plan(ctx, in, keepAll)
	return p, diags
}

// PlanSample is Plan keeping only the first sample instances of each step
// (Count still counts them all), so that planning a batch of a million
// calls to show a summary takes the memory of a few.
func (w *Workflow) PlanSample(ctx context.Context, in Inputs, sample int) (*Plan, hcl.Diagnostics) {
	p, _, diags := w.plan(ctx, in, max(0, sample))
	return p, diags
}

// keepAll, as the keep of plan, keeps every planned instance.
const keepAll = -1

// check is what Run plans with: the diagnostics of Plan, without keeping
// the planned instances, so that checking a batch of a million calls takes
// the memory of a few. It returns, by node index, the expansions whose
// keys and values are wholly known: they are the same in the run, which
// reuses them instead of evaluating their for_each again.
func (w *Workflow) check(ctx context.Context, in Inputs) ([]*expanded, hcl.Diagnostics) {
	_, reuse, diags := w.plan(ctx, in, 0)
	return reuse, diags
}

// plan plans the workflow, keeping the first keep instances of each step
// (keepAll: every one).
func (w *Workflow) plan(ctx context.Context, in Inputs, keep int) (*Plan, []*expanded, hcl.Diagnostics) {
	w, diags := w.bind(ctx, in)
	if diags.HasErrors() {
		return &Plan{}, nil, diags
	}
	e := newEvaluator(ctx, w, in, true)
	needed := w.resultsNeeded(false)
	reuse := make([]*expanded, len(w.nodes))
	p := &Plan{}
	for _, n := range w.order {
		if ctx.Err() != nil {
			return p, reuse, append(diags, interrupted())
		}
		switch {
		case n.local != nil, n.input != nil, n.module != nil:
			v, d := e.evalValue(n)
			diags = append(diags, d...)
			e.values[n.index] = v
		case n.session != nil:
			sc, d := e.evalSession(n)
			diags = append(diags, d...)
			p.Sessions = append(p.Sessions, PlannedSession{Name: sc.Name, RateLimit: sc.RateLimit})
		case n.step != nil:
			x, ps, v, d := e.planStep(ctx, n, keep, needed[n.index])
			diags = append(diags, d...)
			e.values[n.index] = v
			p.Steps = append(p.Steps, ps)
			if x != nil && x.known && n.step.ForEach != nil && !d.HasErrors() {
				reuse[n.index] = x
			}
		case n.check != nil:
			pc, d := e.planCheck(n)
			diags = append(diags, d...)
			p.Checks = append(p.Checks, pc)
		case n.output != nil:
			o, d := e.evalOutput(n)
			diags = append(diags, d...)
			if n.scope.top() {
				p.Outputs = append(p.Outputs, o)
			} else {
				e.values[n.index] = o.Value
			}
		}
	}
	if ctx.Err() != nil {
		diags = append(diags, interrupted())
	}
	return p, reuse, diags
}

func interrupted() *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Interrupted", Detail: "Planning was interrupted."}
}

// planChunk is the fewest instances a goroutine of planStep plans.
const planChunk = 256

// maxInstanceErrors is how many failing instances of a step are reported
// in full; the others are counted.
const maxInstanceErrors = 10

// planStep plans one step: its for_each is evaluated once (expand), then
// every instance is planned by planInstance, in parallel chunks for a
// large step. keep is how many planned instances to keep (a plan shows
// them; a run's check needs only the diagnostics); needed builds the value later
// expressions read: unknown results, null for instances whose when is
// false.
func (e *evaluator) planStep(ctx context.Context, n *node, keep int, needed bool) (*expanded, PlannedStep, cty.Value, hcl.Diagnostics) {
	st := n.step
	ps := PlannedStep{Addr: n.addr, Kind: lang.StepCall, Method: st.Method(), ForEach: cty.NilVal, HasForEach: st.ForEach != nil}
	if st.Script != nil {
		ps.Kind = lang.StepScript
		if st.Script.File != "" {
			ps.ScriptFile = st.Script.Name
		}
	} else if st.Upload != nil {
		ps.Kind = lang.StepUpload
	} else {
		ps.Paginate = st.Call.Paginate
	}
	if n.sess != nil {
		ps.Session = n.sess.addr.Name
	}
	for _, r := range st.DependsOn {
		ps.DependsOn = append(ps.DependsOn, r.Addr)
	}
	unknown := lang.UnknownAfter(cty.DynamicPseudoType, n.addr)
	x, diags := e.expand(n)
	if diags.HasErrors() {
		return nil, ps, cty.DynamicVal, diags
	}
	count := x.len()
	if x.pending != cty.NilVal {
		ps.ForEach = x.pending
	}
	ps.Count = count
	if keep == keepAll || keep > count {
		keep = count
	}
	ps.Instances = make([]PlannedInstance, keep)
	// Every result is unknown, or null when skipped: two values shared by
	// all, so the step's value costs a slot per instance.
	var wrapped []cty.Value
	if needed && x.pending == cty.NilVal {
		wrapped = make([]cty.Value, count)
	}
	unknownResult := cty.ObjectVal(map[string]cty.Value{"result": unknown})
	skippedResult := cty.ObjectVal(map[string]cty.Value{"result": cty.NullVal(cty.DynamicPseudoType)})

	plain := plainParams(x)
	chunks := 1
	if count >= 2*planChunk {
		chunks = min(runtime.GOMAXPROCS(0), count/planChunk)
	}
	type part struct {
		diags   hcl.Diagnostics
		failed  int // instances with errors
		skipped int // instances whose when is false
	}
	parts := make([]part, chunks)
	var wg sync.WaitGroup
	for c := range chunks {
		wg.Go(func() {
			p := &parts[c]
			for i := c * count / chunks; i < (c+1)*count/chunks; i++ {
				if i%planChunk == 0 && ctx.Err() != nil {
					return
				}
				if i >= keep && plain != nil && plain.plainAt(x, i) {
					// What planInstance would find: nothing to report, nothing
					// skipped.
					if wrapped != nil {
						wrapped[i] = unknownResult
					}
					continue
				}
				pi, d := e.planInstance(x, i)
				if d.HasErrors() {
					p.failed++
					if p.failed > maxInstanceErrors {
						continue
					}
				}
				p.diags = append(p.diags, d...)
				if i < keep {
					ps.Instances[i] = pi
				}
				skip := pi.When.IsKnown() && pi.When.False()
				if skip {
					p.skipped++
				}
				if wrapped != nil {
					wrapped[i] = unknownResult
					if skip {
						wrapped[i] = skippedResult
					}
				}
			}
		})
	}
	wg.Wait()
	failed, shown := 0, 0
	for _, p := range parts {
		failed += p.failed
		ps.Skipped += p.skipped
		for _, d := range p.diags {
			if d.Severity == hcl.DiagError {
				if shown >= maxInstanceErrors {
					continue
				}
				shown++
			}
			diags = append(diags, d)
		}
	}
	if failed > maxInstanceErrors {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "More instances with errors",
			Detail:  fmt.Sprintf("%d instances of %s have errors in all; the first ones are shown above.", failed, n.addr),
			Subject: n.rng.Ptr()})
	}
	switch {
	case x.pending != cty.NilVal:
		return x, ps, unknown, diags
	case wrapped == nil:
		return x, ps, cty.DynamicVal, diags // read by no expression
	}
	return x, ps, x.assemble(wrapped), diags
}

// planInstance plans instance i of x: its when, then (unless when is
// false) the params of a call or the input of a script. It is the one
// place an instance is worked out without calling, for plans and for the
// check before a run.
func (e *evaluator) planInstance(x *expanded, i int) (PlannedInstance, hcl.Diagnostics) {
	inst := x.instance(i)
	n := x.n
	pi := PlannedInstance{Key: inst.key, When: cty.True, Params: cty.NullVal(cty.DynamicPseudoType), Input: cty.NilVal}
	if d := e.evalWhen(inst); d.HasErrors() {
		return pi, d
	}
	pi.When = inst.when
	if inst.when.IsKnown() && inst.when.False() {
		return pi, nil
	}
	assertions, d := e.planConditions(inst)
	if d.HasErrors() {
		return pi, d
	}
	pi.Assertions = assertions
	if n.step.Script != nil {
		input, d := evalInput(inst)
		pi.Input = e.knownAfter(n, input)
		return pi, d
	}
	if n.step.Upload != nil {
		args, d := evalUploadArgs(inst)
		pi.Params = e.knownAfter(n, args)
		if !d.HasErrors() {
			d = append(d, e.w.checkUploadFiles(inst, args)...)
		}
		return pi, d
	}
	params, d := evalParams(inst)
	pi.Params = e.knownAfter(n, params)
	if !d.HasErrors() {
		d = append(d, checkParamsValue(inst, pi.Params)...)
	}
	return pi, d
}

// checkParamsValue checks the parameters that are known while planning,
// so that a value the API cannot take (a null inside a list) is reported
// before anything runs.
func checkParamsValue(inst *instance, params cty.Value) hcl.Diagnostics {
	up, _ := params.Unmark()
	if !up.IsKnown() || up.IsNull() {
		return nil
	}
	diags := checkRequiredValue(inst, up)
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

// plainParams returns the params template of x when checking an instance
// not kept by the plan needs nothing but its each: a call step without
// when or conditions whose params are a template (see paramsTemplate)
// whose attributes the same for every instance are known, unmarked
// strings. An instance whose each.key and each.value the template uses are
// known, unmarked strings too (plainAt) then has nothing planInstance
// would report: a known string is sent as it is, and none is null, so no
// required parameter is missing. nil otherwise: every instance is planned.
func plainParams(x *expanded) *paramsTemplate {
	st := x.n.step
	if st.Script != nil || st.Upload != nil || st.Call == nil || st.Call.Params == nil || st.When != nil ||
		len(st.Preconditions)+len(st.Postconditions) > 0 || x.pending != cty.NilVal || x.params == nil {
		return nil
	}
	for k := range x.params.attrs {
		if a := &x.params.attrs[k]; a.from == fromStep && !plainString(a.value) {
			return nil
		}
	}
	return x.params
}

// plainAt reports whether the attributes of instance i of x that come
// from its each are known, unmarked strings (see plainParams).
func (t *paramsTemplate) plainAt(x *expanded, i int) bool {
	for k := range t.attrs {
		if a := &t.attrs[k]; a.from != fromStep && !plainString(a.attrValue(x, i)) {
			return false
		}
	}
	return true
}

// plainString reports whether v is a known, unmarked, non-null string.
func plainString(v cty.Value) bool {
	return !v.IsMarked() && v.Type() == cty.String && v.IsKnown() && !v.IsNull()
}
