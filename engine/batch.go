package engine

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/okru"
	"github.com/zclconf/go-cty/cty"
)

// batch is a step expanded for a run: its expansion, and which instances
// are skipped and dispatched so far. Instances are made only when
// dispatched and are garbage once finished: a for_each of a million
// elements holds its elements and a bit of state for each, not a million
// instances. It is what keeps a run's memory flat as its batch grows.
type batch struct {
	*expanded
	skip []bool // by instance: not run (when is false, or another shard's); nil when none is skipped
	next int    // the next instance to dispatch (under the dispatcher's lock)
	out  int    // instances taken by workers whose results are not posted (likewise)
}

// expandBatch expands a step for a run. A step whose expansion the check
// found wholly known reuses it (with the run's context), so its for_each
// is evaluated once per run.
func (r *runner) expandBatch(n *node) (*batch, hcl.Diagnostics) {
	if x := r.checked[n.index]; x != nil {
		r.checked[n.index] = nil
		reused := *x
		reused.ctx = r.evalContext(n)
		// What the params template took from the check's context is
		// taken again from the run's.
		reused.params = stepParamsTemplate(n, reused.ctx)
		return &batch{expanded: &reused}, nil
	}
	x, diags := r.expand(n)
	if diags.HasErrors() {
		return nil, diags
	}
	return &batch{expanded: x}, nil
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
	if b.keying == keyNone || !sh.Sharded() || b.n.scope.shardID != "" {
		return true // a module instance's steps are split with it (Shard.runs)
	}
	return sh.Of(ShardID(b.key(i), b.values[i])) == sh.Index
}

// pick is an instance chosen to run, made by the worker that runs it.
type pick struct {
	b *batch // nil: none
	i int
}

// more reports whether an instance is left to dispatch, moving next past
// skipped ones. It is called with the dispatcher's lock held.
func (b *batch) more() bool {
	for b.next < b.len() && b.skipped(b.next) {
		b.next++
	}
	return b.next < b.len()
}

// callParams converts a call's evaluated params into what the client
// sends (see wireParams).
func callParams(params cty.Value) (okru.Params, error) { return wireParams(params) }
