package engine

import (
	"runtime"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/lang"
	"github.com/okru-run/okru-run/okru"
	"github.com/zclconf/go-cty/cty"
)

// batch is a step expanded for a run. Unlike an expansion, it makes an
// instance (with its evaluation context) only when the instance is
// dispatched, and the instance is garbage once it has finished: a
// for_each of a million elements holds its elements and a bit of state
// for each, not a million instances. It is what keeps a run's memory flat
// as its batch grows.
type batch struct {
	n      *node
	ctx    *hcl.EvalContext
	el     *elements // nil without for_each
	single *instance // the one instance of a step without for_each
	skip   []bool    // by instance: not run (when is false, or another shard's); nil when none is skipped
	next   int       // the next instance to dispatch
}

// expandBatch evaluates the for_each of a step for a run and checks every
// instance's when, before any instance runs: a when that cannot be
// evaluated fails the step as a whole.
func (r *runner) expandBatch(n *node) (*batch, hcl.Diagnostics) {
	b := &batch{n: n, ctx: r.evalContext(n)}
	if n.step.ForEach == nil {
		b.single = &instance{node: n, key: cty.NilVal, ctx: b.ctx}
		return b, r.evalWhen(b.single)
	}
	_, el, diags := r.forEach(n, b.ctx)
	if diags.HasErrors() {
		return nil, diags
	}
	b.el = el
	return b, nil
}

func (b *batch) len() int {
	if b.el == nil {
		return 1
	}
	return b.el.len()
}

func (b *batch) keying() keying {
	if b.el == nil {
		return keyNone
	}
	return b.el.keying
}

// key returns the key of instance i, cty.NilVal without for_each.
func (b *batch) key(i int) cty.Value {
	if b.el == nil {
		return cty.NilVal
	}
	return b.el.key(i)
}

// instance makes instance i.
func (b *batch) instance(i int) *instance {
	if b.el == nil {
		return b.single
	}
	return b.el.instance(b.n, b.ctx, i)
}

func (b *batch) skipped(i int) bool { return b.skip != nil && b.skip[i] }

func (b *batch) setSkipped(i int) {
	if b.skip == nil {
		b.skip = make([]bool, b.len())
	}
	b.skip[i] = true
}

// when evaluates the when of instance i: true, false, or diagnostics.
func (r *runner) when(b *batch, i int) (bool, hcl.Diagnostics) {
	if b.el == nil {
		return !b.single.when.False(), nil
	}
	if b.n.step.When == nil {
		return true, nil
	}
	inst := b.instance(i)
	if d := r.evalWhen(inst); d.HasErrors() {
		return false, d
	}
	return !inst.when.False(), nil
}

// owns reports whether instance i is this shard's.
func (b *batch) owns(sh Shard, i int) bool {
	if b.el == nil || !sh.Sharded() {
		return true
	}
	return sh.Of(ShardID(b.el.key(i), b.el.values[i])) == sh.Index
}

// value assembles what call.NAME holds from the instances' results.
func (b *batch) value(results []cty.Value) cty.Value {
	return assembleStep(b.keying(), results, func(i int) string { return b.el.keys[i].AsString() })
}

// pick is an instance chosen to run, made by the worker that runs it.
type pick struct {
	b *batch // nil: none
	i int
}

// dequeue picks the next instance to dispatch, from the first step in the
// queue that has one left; a zero pick when there is none.
func (r *runner) dequeue() pick {
	for len(r.queue) > 0 {
		b := r.queue[0].b
		for b.next < b.len() && b.skipped(b.next) {
			b.next++
		}
		if b.next < b.len() {
			b.next++
			return pick{b: b, i: b.next - 1}
		}
		r.queue[0] = nil
		r.queue = r.queue[1:]
	}
	return pick{}
}

// checkChunk is the fewest instances a goroutine of checkForEach checks.
const checkChunk = 256

// checkForEach plans a call step with a known for_each as planStep does,
// one instance at a time, keeping nothing of them: Run only needs the
// diagnostics, and the value later steps are planned with. It reports
// false for a step it does not handle (no for_each, or one not known
// yet), which planStep then plans.
func (e *evaluator) checkForEach(n *node) (cty.Value, hcl.Diagnostics, bool) {
	if n.step.ForEach == nil || n.step.Call == nil {
		return cty.NilVal, nil, false
	}
	ctx := e.evalContext(n)
	_, el, diags := e.forEach(n, ctx)
	if diags.HasErrors() {
		return cty.DynamicVal, diags, true
	}
	if el == nil {
		return cty.NilVal, nil, false
	}
	// Every instance's result is unknown, or null when it is skipped: two
	// values shared by all, so the step's value costs a slot per instance.
	unknown := cty.ObjectVal(map[string]cty.Value{"result": lang.UnknownAfter(cty.DynamicPseudoType, n.addr)})
	skipped := cty.ObjectVal(map[string]cty.Value{"result": cty.NullVal(cty.DynamicPseudoType)})
	results := make([]cty.Value, el.len())
	// A large for_each is checked in parallel chunks: nothing is called
	// before the check ends, so one core would do it while the others
	// wait. Diagnostics keep the order of the instances.
	type part struct {
		diags  hcl.Diagnostics
		failed bool // a when could not be evaluated: the check stops there
	}
	chunks := 1
	if el.len() >= 2*checkChunk {
		chunks = min(runtime.GOMAXPROCS(0), el.len()/checkChunk)
	}
	parts := make([]part, chunks)
	var wg sync.WaitGroup
	for c := range chunks {
		wg.Go(func() {
			p := &parts[c]
			for i := c * el.len() / chunks; i < (c+1)*el.len()/chunks; i++ {
				inst := el.instance(n, ctx, i)
				if d := e.evalWhen(inst); d.HasErrors() {
					p.diags, p.failed = append(p.diags, d...), true
					return
				}
				params, d := evalParams(inst)
				params = e.knownAfter(n, params)
				p.diags = append(p.diags, d...)
				if !d.HasErrors() {
					p.diags = append(p.diags, checkParamsValue(inst, params)...)
				}
				results[i] = unknown
				if inst.when.IsKnown() && inst.when.False() {
					results[i] = skipped
				}
			}
		})
	}
	wg.Wait()
	for _, p := range parts {
		diags = append(diags, p.diags...)
		if p.failed {
			return cty.DynamicVal, diags, true
		}
	}
	if len(results) == 0 {
		if el.keying == keyIndex {
			return cty.EmptyTupleVal, diags, true
		}
		return cty.EmptyObjectVal, diags, true
	}
	if el.keying == keyIndex {
		return cty.TupleVal(results), diags, true
	}
	attrs := make(map[string]cty.Value, len(results))
	for i, r := range results {
		attrs[el.keys[i].AsString()] = r
	}
	return cty.ObjectVal(attrs), diags, true
}

// callParams converts a call's evaluated params into what the client
// sends (see wireParams).
func callParams(params cty.Value) (okru.Params, error) { return wireParams(params) }
