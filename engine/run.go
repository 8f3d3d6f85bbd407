package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/lang"
	"github.com/okru-run/okru-run/lang/lua"
	"github.com/okru-run/okru-run/okru"
	"github.com/zclconf/go-cty/cty"
)

// DefaultParallelism is how many calls run at once unless Options say.
const DefaultParallelism = 4

// Options configure a run. The zero value runs 4 calls at a time, stops at
// the first failure, reports to nobody and connects with Connect.
type Options struct {
	Parallelism     int       // calls in flight at once; 0 means DefaultParallelism
	ContinueOnError bool      // keep running what does not depend on a failure
	Observer        Observer  // receives every event; nil discards them
	Connect         Connector // builds each session's client; nil means Connect

	// State makes the run durable and resumable (see StateOptions); nil
	// keeps no state.
	State *StateOptions
	// Shard runs one share of every for_each (see Shard); the zero value
	// runs everything.
	Shard Shard
	// Stop, once closed, stops the run gently: no call starts any more,
	// the calls in flight finish (cancel ctx to cut them short), and the
	// run ends as interrupted. A lua:: function running stops at once (it
	// is pure: nothing is lost), and what called it is interrupted, not
	// failed. Cancelling ctx alone stops at once.
	Stop <-chan struct{}
	// ProgressEvery is how often EventProgress reports the running
	// for_each steps; 0 never does.
	ProgressEvery time.Duration
	// StrictChecks makes a failed check block an error that fails the
	// run, rather than a warning.
	StrictChecks bool
	// KeepResults keeps every step's results, read by an expression or
	// not, in Result.Steps (for okru-run test, which asserts on them).
	KeepResults bool
}

// Status is how a run ended.
type Status int

// The ends of a run. They map onto the CLI's exit codes.
const (
	StatusOK          Status = iota // everything ran
	StatusFailed                    // a call or an evaluation failed
	StatusInvalid                   // the configuration is invalid; nothing was called
	StatusInterrupted               // the context was cancelled
)

// Result is the outcome of a run.
type Result struct {
	Status   Status
	Outputs  []OutputValue // the outputs that could be computed, in declaration order
	Calls    int           // instances that called the API (paged calls count once)
	Failures int           // instances or evaluations that failed
	Reused   int           // instances finished by the run that was resumed
	Unknown  int           // writes of the resumed run whose outcome is unknown, not sent again
	Checks   []CheckResult // the check blocks, in the order they were evaluated
	// Steps holds, with Options.KeepResults, the value of every step that
	// finished, as expressions see it (call.NAME), by address.
	Steps map[lang.Address]cty.Value
}

// Run plans the workflow (returning StatusInvalid, having called nothing,
// if the plan has errors), sets up every session, then runs the steps in
// dependency order, up to Parallelism calls at a time, and evaluates the
// outputs. The diagnostics hold every failure.
func (w *Workflow) Run(ctx context.Context, in Inputs, opts Options) (*Result, hcl.Diagnostics) {
	// Evaluation stops at the first signal too: Stop is for calls in
	// flight, and the check, which calls nothing, stops at once; so does a
	// lua:: function running later, which is pure: nothing is lost.
	evalCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-opts.Stop:
			cancel()
		case <-evalCtx.Done():
		}
	}()
	w, diags := w.bind(evalCtx, in)
	if evalCtx.Err() != nil {
		return &Result{Status: StatusInterrupted}, firstStop(evalCtx, diags)
	}
	if diags.HasErrors() {
		return &Result{Status: StatusInvalid}, diags
	}
	checked, d := w.check(evalCtx, in)
	diags = append(diags, d...)
	if evalCtx.Err() != nil {
		return &Result{Status: StatusInterrupted}, firstStop(evalCtx, diags)
	}
	if diags.HasErrors() {
		return &Result{Status: StatusInvalid}, diags
	}
	r := newRunner(evalCtx, w, in, opts)
	r.checked = checked
	d = r.setup(ctx)
	diags = append(diags, d...)
	if d.HasErrors() {
		r.emitOutputs()
		if r.interruption(d) {
			return &Result{Status: StatusInterrupted}, firstStop(evalCtx, diags)
		}
		return &Result{Status: StatusInvalid}, diags
	}
	if d := r.openJournal(); d.HasErrors() {
		r.emitOutputs()
		return &Result{Status: StatusInvalid}, append(diags, d...)
	}
	r.loop(ctx)
	r.skippedChecks()
	diags = append(diags, r.diags...)
	if r.unknown > 0 {
		diags = append(diags, unknownSummary(r.unknownIDs, r.unknown))
	}
	res := &Result{Outputs: r.emitOutputs(), Calls: r.calls, Failures: r.failures, Reused: r.reused, Unknown: r.unknown, Checks: r.checks, Steps: r.keptSteps()}
	switch {
	case ctx.Err() != nil || r.interrupted:
		res.Status = StatusInterrupted
	case r.failures > 0 || r.unknown > 0:
		res.Status = StatusFailed
	}
	r.recordOutputs(res.Outputs)
	if d := r.closeJournal(res.Status == StatusOK); d.HasErrors() {
		diags = append(diags, d...)
		if res.Status == StatusOK {
			res.Status = StatusFailed
		}
	}
	return res, diags
}

// runner is the state of one run. Only the goroutine in loop touches it;
// workers take instances from its dispatcher and post back results.
type runner struct {
	*evaluator
	opts    Options
	obs     *serialObserver
	callers map[*node]Caller // by session node
	secrets []string

	done []bool // by node index
	// unreachable, by node index: a node that will not run because a node
	// it depends on failed or was skipped (see skipUsersBecause).
	unreachable []bool
	pending     []int // dependencies not yet done, by node index
	ready       []*node
	d           *dispatcher // the queue of instances to run, shared with the workers
	steps       map[*node]*stepRun
	outputs     map[*node]OutputValue
	stopped     bool
	calls       int
	failures    int
	diags       hcl.Diagnostics

	in          Inputs
	checked     []*expanded // by node index: expansions of the check to reuse (see expandBatch)
	journal     *journal    // nil without StateOptions
	needed      []bool      // by node index: a step's results are read later (resultsNeeded)
	interrupted bool        // Options.Stop was closed
	reused      int
	unknown     int
	unknownIDs  []string    // the first few, for the summary
	uploads     uploadBytes // bytes sent by upload steps, for progress
	checks      []CheckResult
}

// stepRun is a step whose instances are running.
type stepRun struct {
	b         *batch
	results   []cty.Value // nil when no expression reads them (see resultsNeeded)
	remaining int
	failed    int
}

// set keeps one instance's result if the step's results are needed.
func (sr *stepRun) set(i int, v cty.Value) {
	if sr.results != nil {
		sr.results[i] = v
	}
}

type result struct {
	inst   *instance
	value  cty.Value
	diags  hcl.Diagnostics
	err    error
	took   time.Duration
	pages  int
	called bool       // the API was called (params evaluated)
	replay replayKind // settled from the journal of a resumed run
	held   bool       // it holds the dispatch until the loop has handled it (see dispatcher)
	reason string     // why its outcome is unknown, when not the usual
}

// newRunner makes the runner of a run; evalCtx stops the lua:: calls of
// its expressions (see Run).
func newRunner(evalCtx context.Context, w *Workflow, in Inputs, opts Options) *runner {
	if opts.Parallelism <= 0 {
		opts.Parallelism = DefaultParallelism
	}
	if opts.Connect == nil {
		opts.Connect = Connect
	}
	var obs Observer
	var tracker *progressTracker
	if opts.Observer != nil {
		tracker = newProgressTracker(opts.Observer)
		obs = tracker
	}
	r := &runner{
		evaluator:   newEvaluator(evalCtx, w, in, false),
		in:          in,
		needed:      w.resultsNeeded(opts.KeepResults),
		opts:        opts,
		obs:         &serialObserver{o: obs},
		callers:     map[*node]Caller{},
		done:        make([]bool, len(w.nodes)),
		unreachable: make([]bool, len(w.nodes)),
		pending:     make([]int, len(w.nodes)),
		steps:       map[*node]*stepRun{},
		outputs:     map[*node]OutputValue{},
	}
	r.shard = opts.Shard
	r.uploads = newUploadBytes(w)
	if tracker != nil && r.uploads != nil {
		tracker.bytes = r.uploads.get
	}
	return r
}

// setup evaluates, in order, every local and session that does not depend
// on a step, and connects every session, so that a missing credential is
// reported before the first call.
func (r *runner) setup(ctx context.Context) hcl.Diagnostics {
	var diags hcl.Diagnostics
	static := make([]bool, len(r.w.nodes))
	for _, n := range r.w.order {
		isStatic := n.step == nil && n.output == nil && n.check == nil
		for _, d := range n.deps {
			isStatic = isStatic && static[d.index]
		}
		static[n.index] = isStatic
		if !isStatic {
			continue
		}
		switch {
		case !r.opts.Shard.runs(n.scope):
			// Another shard's module instance: see start.
		case n.variable != nil:
		case n.local != nil, n.input != nil, n.module != nil: // a module without outputs is static
			v, d := r.evalValue(n)
			diags = append(diags, d...)
			r.values[n.index] = v
		case n.session != nil:
			cfg, d := r.evalSession(n)
			diags = append(diags, d...)
			if d.HasErrors() {
				continue
			}
			r.secrets = append(r.secrets, cfg.Secrets()...)
			c, err := r.opts.Connect(ctx, cfg)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid session",
					Detail: fmt.Sprintf("session %q: %s. Set the credentials in the session block (for example app_key = env(\"OKRU_APP_KEY\") with the variable exported), or run with -sandbox to try the workflow offline.",
						n.addr.Name, okru.Redact(err.Error(), r.secrets...)),
					Subject: n.rng.Ptr()})
				continue
			}
			r.callers[n] = c
		}
		r.done[n.index] = true
	}
	return diags
}

// loop runs the graph: non-step nodes are evaluated here as soon as they
// are ready; step instances are queued for a fixed pool of workers, who
// take them (see dispatcher), so at most Parallelism calls are in flight
// and no goroutine is started per call. The loop records the results the
// workers post, in batches, and is the only one to decide from them.
func (r *runner) loop(ctx context.Context) {
	for _, n := range r.w.nodes {
		if r.done[n.index] {
			continue
		}
		for _, d := range n.deps {
			if !r.done[d.index] {
				r.pending[n.index]++
			}
		}
	}
	for _, n := range r.w.order {
		if !r.done[n.index] && r.pending[n.index] == 0 {
			r.ready = append(r.ready, n)
		}
	}

	d := newDispatcher(ctx, r.opts)
	r.d = d
	var wg sync.WaitGroup
	for range r.opts.Parallelism {
		wg.Go(func() {
			// The worker makes the instance: that work is spread over the
			// workers, not done by this loop, through which every instance
			// passes.
			d.work(func(p pick) result { return r.executeAsserted(ctx, p.b.instance(p.i)) })
		})
	}
	defer func() {
		d.end()
		wg.Wait()
	}()

	if r.opts.ProgressEvery > 0 && r.opts.Observer != nil {
		defer r.tickProgress(ctx, r.opts.ProgressEvery)()
	}
	interrupted := ctx.Done()
	stop := r.opts.Stop
	var batch []result
	for {
		held := 0
		for i, res := range batch {
			if res.held {
				held++
			}
			r.finishInstance(ctx, res)
			batch[i] = result{}
		}
		batch = batch[:0]
		for len(r.ready) > 0 {
			n := r.ready[0]
			r.ready = r.ready[1:]
			r.start(n)
		}
		select {
		case <-stop: // checked first: once Stop is closed, no call starts
			stop = r.stopGently(d.inFlight())
		default:
		}
		d.mu.Lock()
		if r.stopped {
			d.closed, d.queue = true, nil
		}
		d.hold -= held
		d.cond.Broadcast()
		if len(d.results) == 0 {
			if d.taken == 0 && !d.pending() {
				d.mu.Unlock()
				return
			}
			d.mu.Unlock()
			select {
			case <-d.wake:
			case <-interrupted:
				interrupted = nil
				r.stopped = true
				continue
			case <-stop:
				stop = r.stopGently(d.inFlight())
				continue
			}
			d.mu.Lock()
		}
		batch, d.results = d.results, batch
		d.taken -= len(batch)
		d.mu.Unlock()
	}
}

// start evaluates a ready node, or expands and queues a step.
func (r *runner) start(n *node) {
	if sh := r.opts.Shard; !sh.runs(n.scope) {
		// Another shard's module instance: nothing of it is evaluated.
		if n.step != nil {
			r.obs.Observe(Event{Type: EventSkipped, Step: n.addr, Key: cty.NilVal, Method: n.step.Method(),
				Reason: fmt.Sprintf("runs in shard %d of %d, with its module instance", sh.Of(n.scope.shardID), sh.Count)})
		}
		r.complete(n)
		return
	}
	switch {
	case n.local != nil, n.input != nil, n.module != nil:
		v, d := r.evalValue(n)
		if d.HasErrors() {
			r.fail(n, d)
			return
		}
		r.values[n.index] = v
		r.complete(n)
	case n.output != nil:
		o, d := r.evalOutput(n)
		if d.HasErrors() {
			r.fail(n, d)
			return
		}
		if n.scope.top() {
			r.outputs[n] = o
		} else {
			r.values[n.index] = o.Value
		}
		r.complete(n)
	case n.session != nil:
		// Sessions that depend on steps are rejected by Compile.
		r.complete(n)
	case n.step != nil:
		r.startStep(n)
	case n.check != nil:
		r.runCheck(n)
		r.complete(n)
	default:
		r.complete(n)
	}
}

func (r *runner) startStep(n *node) {
	if r.stopped {
		r.obs.Observe(Event{Type: EventSkipped, Step: n.addr, Key: cty.NilVal, Method: n.step.Method(),
			Reason: "not started: the run is stopping"})
		return
	}
	if why, skip := r.opts.Shard.skips(n); skip {
		r.obs.Observe(Event{Type: EventSkipped, Step: n.addr, Key: cty.NilVal, Method: n.step.Method(), Reason: why})
		r.skipUsersBecause(n, n.addr.String()+" "+why)
		return
	}
	b, d := r.expandBatch(n)
	if d.HasErrors() {
		r.fail(n, d)
		return
	}
	count := b.len()
	run := make([]bool, count) // freed when startStep returns
	mine := 0
	for i := range count {
		if b.owns(r.opts.Shard, i) {
			run[i] = true
			mine++
		}
	}
	for i := range count {
		if !run[i] {
			continue
		}
		ok, d := r.when(b, i)
		if d.HasErrors() {
			r.fail(n, d)
			return
		}
		run[i] = ok
	}
	sr := &stepRun{b: b}
	if r.needed[n.index] {
		sr.results = make([]cty.Value, count)
	}
	r.steps[n] = sr
	if n.step.ForEach != nil {
		r.obs.Observe(Event{Type: EventExpanded, Step: n.addr, Key: cty.NilVal, Method: n.step.Method(), Instances: mine, Total: count})
	}
	for i := range count {
		if run[i] {
			sr.remaining++
			continue
		}
		b.setSkipped(i)
		sr.set(i, cty.NullVal(cty.DynamicPseudoType))
		if b.owns(r.opts.Shard, i) {
			r.obs.Observe(Event{Type: EventSkipped, Step: n.addr, Key: b.key(i), Method: n.step.Method(), Reason: "when is false"})
		}
	}
	if sr.remaining == 0 {
		r.finishStep(n, sr)
		return
	}
	r.d.push(sr)
}

// finishInstance records one instance's outcome. It is the one place an
// instance is known to be over, so a journal can hook in here.
func (r *runner) finishInstance(ctx context.Context, res result) {
	inst := res.inst
	n := inst.node
	sr := r.steps[n]
	sr.remaining--
	inst.ctx = nil // what the worker needed; the key stays for the step's value
	if res.called {
		r.calls++
	}
	if res.replay == replayUnknown {
		sr.failed++
		r.unknown++
		if len(r.unknownIDs) < 10 {
			r.unknownIDs = append(r.unknownIDs, InstanceName(n.addr, inst.key))
		}
		r.obs.Observe(Event{Type: EventUnknown, Step: n.addr, Key: inst.key, Method: n.step.Method(),
			Reason: cmp.Or(res.reason, "sent by the run being resumed, which stopped before its answer was recorded; not sent again")})
	} else if res.err != nil && (ctx.Err() != nil && errors.Is(res.err, ctx.Err()) || r.interrupted && errors.Is(res.err, errStopping)) ||
		r.interruption(res.diags) {
		// Interrupted, not failed: the run reports the interruption. (An
		// instance whose expressions were stopped made no call.)
		sr.failed++
		r.obs.Observe(Event{Type: EventSkipped, Step: n.addr, Key: inst.key, Method: n.step.Method(),
			Reason: "interrupted"})
	} else if res.err != nil || res.diags.HasErrors() {
		sr.failed++
		r.failures++
		r.diags = append(r.diags, tagInstance(res.diags, InstanceName(n.addr, inst.key))...)
		// A false precondition fails the instance too (its error an
		// AssertionError), though nothing was called: it fails the run.
		err := res.err
		if err == nil { // its expressions failed as it was made: no call
			err = &EvalError{Diags: res.diags}
		}
		r.obs.Observe(Event{Type: EventFailed, Step: n.addr, Key: inst.key, Method: n.step.Method(),
			Elapsed: res.took, Err: err, Diags: res.diags})
		if !r.opts.ContinueOnError {
			r.stopped = true
		}
	} else if res.replay == replayReused {
		sr.set(inst.index, res.value)
		r.reused++
		r.obs.Observe(Event{Type: EventReused, Step: n.addr, Key: inst.key, Method: n.step.Method()})
	} else {
		sr.set(inst.index, res.value)
		r.obs.Observe(Event{Type: EventFinished, Step: n.addr, Key: inst.key, Method: n.step.Method(),
			Elapsed: res.took, Pages: res.pages})
	}
	if sr.remaining == 0 {
		r.finishStep(n, sr)
	}
}

func (r *runner) finishStep(n *node, sr *stepRun) {
	if sr.failed > 0 {
		r.skipUsers(n)
		return
	}
	if sr.results == nil {
		r.values[n.index] = cty.DynamicVal // read by no expression
	} else {
		r.values[n.index] = sr.b.stepValue(sr.results)
	}
	r.complete(n)
}

// complete marks n done and readies what waited only for it.
func (r *runner) complete(n *node) {
	r.done[n.index] = true
	for _, u := range n.users {
		r.pending[u.index]--
		if r.pending[u.index] == 0 {
			r.ready = append(r.ready, u)
		}
	}
}

// fail records an evaluation failure of n, or its interruption (see
// evaluator.interruption), which stops the run as a signal does.
func (r *runner) fail(n *node, d hcl.Diagnostics) {
	if r.interruption(d) {
		if n.step != nil {
			r.obs.Observe(Event{Type: EventSkipped, Step: n.addr, Key: cty.NilVal, Method: n.step.Method(),
				Reason: "interrupted"})
		}
		r.stopped = true
		return
	}
	r.failures++
	r.diags = append(r.diags, d...)
	if n.step != nil {
		r.obs.Observe(Event{Type: EventFailed, Step: n.addr, Key: cty.NilVal, Method: n.step.Method(),
			Err: &EvalError{Diags: d}, Diags: d})
	}
	if !r.opts.ContinueOnError {
		r.stopped = true
	}
	r.skipUsers(n)
}

// skipUsers reports the steps that cannot run because n failed.
func (r *runner) skipUsers(failed *node) {
	r.skipUsersBecause(failed, failed.addr.String()+" failed")
}

// skipUsersBecause reports the steps that cannot run because n did not,
// giving reason. A node is skipped once for the whole run: with
// ContinueOnError, a step that uses two failed steps is reached from
// both, and its users with it.
func (r *runner) skipUsersBecause(failed *node, reason string) {
	var walk func(n *node)
	walk = func(n *node) {
		for _, u := range n.users {
			if r.unreachable[u.index] {
				continue
			}
			r.unreachable[u.index] = true
			if u.step != nil && !r.stopped {
				r.obs.Observe(Event{Type: EventSkipped, Step: u.addr, Key: cty.NilVal, Method: u.step.Method(),
					Reason: reason})
			}
			walk(u)
		}
	}
	walk(failed)
}

// FailedInstance is the Extra of the diagnostics of a failed instance:
// which one it was, so that a printer can group the failures that differ
// only by instance (read it with hcl.DiagnosticExtra[FailedInstance]).
type FailedInstance struct {
	Instance string // as InstanceName gives it, e.g. "call.post[17]"
}

// tagInstance returns copies of diags whose Extra names the instance, for
// those that carry no Extra of their own.
func tagInstance(diags hcl.Diagnostics, name string) hcl.Diagnostics {
	out := make(hcl.Diagnostics, len(diags))
	for i, d := range diags {
		c := *d
		if c.Extra == nil {
			c.Extra = FailedInstance{Instance: name}
		}
		out[i] = &c
	}
	return out
}

// EvalError is the error of a failed event whose step could not be
// evaluated (its for_each, when or params): nothing was called.
type EvalError struct {
	Diags hcl.Diagnostics
}

func (e *EvalError) Error() string { return diagText(e.Diags) }

func diagText(d hcl.Diagnostics) string {
	for _, x := range d {
		if x.Severity == hcl.DiagError {
			if x.Detail != "" {
				return x.Summary + ": " + x.Detail
			}
			return x.Summary
		}
	}
	return d.Error()
}

// emitOutputs sends the outputs event and returns the outputs computed.
func (r *runner) emitOutputs() []OutputValue {
	var outs []OutputValue
	for _, n := range r.w.nodes {
		if o, ok := r.outputs[n]; ok {
			outs = append(outs, o)
		}
	}
	r.obs.Observe(Event{Type: EventOutputs, Key: cty.NilVal, Outputs: outs})
	return outs
}

// execute makes the call of one instance. It runs on a worker.
func (r *runner) execute(ctx context.Context, inst *instance) result {
	n := inst.node
	st := n.step
	if res, ok := r.replay(inst); ok {
		return res
	}
	if st.Script != nil {
		return r.executeScript(ctx, inst)
	}
	if st.Upload != nil {
		return r.executeUpload(ctx, inst)
	}
	call := st.Call
	res := result{inst: inst}
	// Params of a template (see paramsTemplate) go to the wire, and their
	// hash to the journal, without their value being made; a write's
	// start record shows the value, so a journaled write makes it.
	var params cty.Value
	var p okru.Params
	var hash string
	var err error
	if t := inst.paramsTemplate(); t != nil && (r.journal == nil || !isWrite(inst, call.Method)) {
		p, hash, err = t.wire(inst.x, inst.index, r.journal != nil)
	} else {
		var diags hcl.Diagnostics
		if params, diags = evalParams(inst); diags.HasErrors() {
			res.diags = diags
			return res
		}
		p, err = callParams(params)
		if err == nil && r.journal != nil {
			hash = argsHash(params)
		}
	}
	if err != nil {
		res.diags = hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid parameter",
			Detail: InstanceName(n.addr, inst.key) + ": " + err.Error() + ".", Subject: call.Params.Range().Ptr()}}
		return res
	}
	opts := []okru.CallOption{okru.OnRetry(func(ri okru.RetryInfo) {
		r.obs.Observe(Event{Type: EventRetried, Step: n.addr, Key: inst.key, Method: call.Method,
			Attempt: ri.Attempt, Wait: ri.Wait, Err: r.redact(ri.Err)})
	})}
	if st.Retry != nil {
		opts = append(opts, okru.WithRetry(okru.RetryPolicy{MaxAttempts: st.Retry.Attempts,
			MinBackoff: st.Retry.Backoff, MaxBackoff: st.Retry.MaxBackoff}))
	}
	if st.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, st.Timeout)
		defer cancel()
		// The step's timeout replaces the client's default bound on each
		// attempt (okru.DefaultAttemptTimeout), longer or shorter.
		opts = append(opts, okru.WithAttemptTimeout(st.Timeout))
	}
	caller := r.callers[n.sess]
	jc, err := r.journal.beginHashed(inst, call.Method, params, hash)
	if err != nil {
		res.err = err
		res.diags = hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot record the call", Detail: err.Error() + ".", Subject: n.rng.Ptr()}}
		return res
	}
	res.called = true
	r.obs.Observe(Event{Type: EventStarted, Step: n.addr, Key: inst.key, Method: call.Method})
	begin := time.Now()
	var raw []byte
	if call.Paginate {
		res.value, res.pages, err = pagedCall(ctx, caller, call.Method, p, opts)
	} else {
		raw, err = caller.Call(ctx, call.Method, p, opts...)
		// A result no expression reads is not decoded: okru has checked
		// that it is JSON, and the journal stores it as it came.
		if err == nil && r.needed[n.index] {
			res.value, err = lang.ValueFromJSON(raw)
			if err != nil {
				err = fmt.Errorf("call %s: %w", call.Method, err)
			}
		}
	}
	res.took = time.Since(begin)
	defer r.journal.end(jc, &res, raw)
	if err != nil {
		res.err = r.redact(err)
		if st.Timeout > 0 && errors.Is(err, context.DeadlineExceeded) {
			res.err = fmt.Errorf("%w (timeout %s)", res.err, st.Timeout)
		}
		res.diags = hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Call failed",
			Detail:  InstanceName(n.addr, inst.key) + " (" + call.Method + "): " + ErrorText(res.err, call.Method) + ".",
			Subject: call.MethodRange.Ptr()}}
	}
	return res
}

// executeScript runs a script instance, recorded in the journal as a
// write: the Lua may change things.
func (r *runner) executeScript(ctx context.Context, inst *instance) result {
	var jc *journalCall
	if r.journal != nil {
		input, diags := evalInput(inst)
		if diags.HasErrors() {
			return result{inst: inst, diags: diags}
		}
		var err error
		if jc, err = r.journal.begin(inst, lang.ScriptMethod, input); err != nil {
			return result{inst: inst, err: err, diags: hcl.Diagnostics{{Severity: hcl.DiagError,
				Summary: "Cannot record the script", Detail: err.Error() + ".", Subject: inst.node.rng.Ptr()}}}
		}
	}
	res := r.runScript(ctx, inst)
	r.journal.end(jc, &res, nil)
	return res
}

// ErrorText is an error's message without the "call METHOD: " prefix the
// okru client puts first, for lines that already name the method.
//
// A script's failure comes with a diagnostic that says it with the
// script's line (see scriptFailure): its text is only where it failed, so
// that the message is shown once.
func ErrorText(err error, method string) string {
	if err == nil {
		return "failed"
	}
	if se, ok := errors.AsType[*lua.ScriptError](err); ok {
		if se.Line > 0 {
			return fmt.Sprintf("%s:%d (see the error below)", se.File, se.Line)
		}
		return fmt.Sprintf("%s (see the error below)", se.File)
	}
	return strings.TrimPrefix(err.Error(), "call "+method+": ")
}

// redact removes every credential of the run's sessions from an error.
func (r *runner) redact(err error) error {
	if err == nil {
		return nil
	}
	return redactedError{msg: okru.Redact(err.Error(), r.secrets...), err: err}
}

// redactedError keeps the cause for errors.Is and errors.As but prints
// without secrets.
type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }

// pagedCall follows the pages of a list method and merges them: see
// mergePages.
func pagedCall(ctx context.Context, c Caller, method string, p okru.Params, opts []okru.CallOption) (cty.Value, int, error) {
	var pages []cty.Value
	for raw, err := range c.Pages(ctx, method, p, opts...) {
		if err != nil {
			return cty.NilVal, len(pages), err
		}
		v, err := lang.ValueFromJSON(raw)
		if err != nil {
			return cty.NilVal, len(pages), fmt.Errorf("call %s: page %d: %w", method, len(pages)+1, err)
		}
		pages = append(pages, v)
	}
	return MergePages(pages), len(pages), nil
}

// MergePages merges the pages of a paginated call into one result: the
// last page's attributes, except that every attribute holding a list in
// any page holds the lists of all pages concatenated, in order. So for
// group.getMembers, result.members is every member and result.has_more is
// false. Pages that are not objects (rare) are returned as a tuple.
func MergePages(pages []cty.Value) cty.Value {
	if len(pages) == 0 {
		return cty.NullVal(cty.DynamicPseudoType)
	}
	if len(pages) == 1 {
		return pages[0]
	}
	for _, p := range pages {
		if p.IsNull() || !p.Type().IsObjectType() {
			return cty.TupleVal(pages)
		}
	}
	attrs := map[string]cty.Value{}
	lists := map[string][]cty.Value{}
	for _, p := range pages {
		for name, v := range p.AsValueMap() {
			if !v.IsNull() && (v.Type().IsTupleType() || v.Type().IsListType()) {
				lists[name] = append(lists[name], v.AsValueSlice()...)
				continue
			}
			attrs[name] = v
		}
	}
	for name, elems := range lists {
		if len(elems) == 0 {
			attrs[name] = cty.EmptyTupleVal
			continue
		}
		attrs[name] = cty.TupleVal(elems)
	}
	return cty.ObjectVal(attrs)
}
