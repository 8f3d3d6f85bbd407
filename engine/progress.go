package engine

import (
	"context"
	"slices"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/lang"
	"github.com/zclconf/go-cty/cty"
)

// StepProgress is how far one for_each step has come.
type StepProgress struct {
	Step    lang.Address
	Method  string
	Total   int // this shard's instances
	Done    int // finished in this run
	Reused  int // finished in the run being resumed
	Failed  int
	Skipped int // skipped, interrupted, or outcome unknown
	Retries int // attempts repeated so far
	Elapsed time.Duration
	// Rate is this run's finished calls per second; ETA the time left at
	// that rate, zero when it cannot be told yet.
	Rate float64
	ETA  time.Duration
	// Bytes and TotalBytes, for an upload step, are the bytes of its
	// files sent so far and to send, by the instances started in this run.
	Bytes, TotalBytes int64

	single bool // an upload step without for_each, tracked for its bytes
}

// Remaining counts the instances not over yet.
func (p StepProgress) Remaining() int {
	return max(0, p.Total-p.Done-p.Reused-p.Failed-p.Skipped)
}

// progressTracker counts the events of each for_each step on their way
// to the observer, and fills in EventProgress. It sits behind the
// serialObserver, so it sees one event at a time and needs no lock.
type progressTracker struct {
	next Observer
	// bytes tells an upload step's bytes sent and to send; nil when the
	// run has no upload step.
	bytes func(lang.Address) (sent, total int64)
	steps map[lang.Address]*StepProgress
	order []*StepProgress // expansion order
	begun map[lang.Address]time.Time
}

func newProgressTracker(next Observer) *progressTracker {
	return &progressTracker{next: next, steps: map[lang.Address]*StepProgress{}, begun: map[lang.Address]time.Time{}}
}

func (t *progressTracker) Observe(e Event) {
	if e.Type == EventProgress {
		if e.Progress = t.snapshot(); len(e.Progress) == 0 {
			return
		}
		t.next.Observe(e)
		return
	}
	if e.Type == EventExpanded {
		p := &StepProgress{Step: e.Step, Method: e.Method, Total: e.Instances}
		t.steps[e.Step], t.begun[e.Step] = p, time.Now()
		t.order = append(t.order, p)
	}
	if e.Type == EventStarted && e.Step.Kind == lang.KindUpload && !e.HasKey() && !e.FromScript && t.steps[e.Step] == nil {
		// An upload without for_each takes long enough to show its bytes.
		p := &StepProgress{Step: e.Step, Method: e.Method, Total: 1, single: true}
		t.steps[e.Step], t.begun[e.Step] = p, time.Now()
		t.order = append(t.order, p)
	}
	if p := t.steps[e.Step]; p != nil && (e.HasKey() || p.single) {
		switch {
		case e.Type == EventRetried:
			p.Retries++
		case e.FromScript:
		case e.Type == EventFinished:
			p.Done++
		case e.Type == EventReused:
			p.Reused++
		case e.Type == EventFailed:
			p.Failed++
		case e.Type == EventSkipped || e.Type == EventUnknown:
			p.Skipped++
		}
	}
	t.next.Observe(e)
}

// snapshot returns the steps still running, with their rates.
func (t *progressTracker) snapshot() []StepProgress {
	var out []StepProgress
	now := time.Now()
	for _, p := range t.order {
		if p.Remaining() == 0 {
			continue
		}
		s := *p
		if t.bytes != nil && p.Step.Kind == lang.KindUpload {
			s.Bytes, s.TotalBytes = t.bytes(p.Step)
		}
		s.Elapsed = now.Sub(t.begun[p.Step])
		if secs := s.Elapsed.Seconds(); secs > 0 && s.Done > 0 {
			s.Rate = float64(s.Done) / secs
			s.ETA = time.Duration(float64(s.Remaining()) / s.Rate * float64(time.Second))
		}
		out = append(out, s)
	}
	return out
}

// PacedSession is a session whose pace bounds a run: Rate is its calls
// per second now.
type PacedSession struct {
	Name string
	Rate float64
}

// pacedCaller is what okru.API tells of its pacing (see okru.API.PacedCalls).
type pacedCaller interface {
	Rate() float64
	PacedCalls() uint64
}

// pacing watches the sessions' pacers between two EventProgress.
type pacing struct {
	sessions []*node
	last     []uint64
}

func (r *runner) newPacing() *pacing {
	p := &pacing{}
	for n, c := range r.callers {
		if _, ok := c.(pacedCaller); ok {
			p.sessions = append(p.sessions, n)
		}
	}
	slices.SortFunc(p.sessions, func(a, b *node) int { return a.index - b.index })
	p.last = make([]uint64, len(p.sessions))
	for i, n := range p.sessions {
		p.last[i] = r.callers[n].(pacedCaller).PacedCalls()
	}
	return p
}

// paced returns the sessions at least half of whose allowed calls in the
// last interval had to wait for the pace.
func (p *pacing) paced(r *runner, interval time.Duration) []PacedSession {
	var out []PacedSession
	for i, n := range p.sessions {
		pc := r.callers[n].(pacedCaller)
		now := pc.PacedCalls()
		waited := now - p.last[i]
		p.last[i] = now
		rate := pc.Rate()
		if rate > 0 && waited > 0 && float64(waited)*2 >= rate*interval.Seconds() {
			out = append(out, PacedSession{Name: n.addr.Name, Rate: rate})
		}
	}
	return out
}

// tickProgress asks for an EventProgress every interval until the
// returned function is called, which waits for the last one.
func (r *runner) tickProgress(ctx context.Context, every time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	pace := r.newPacing()
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				r.obs.Observe(Event{Type: EventProgress, Key: cty.NilVal, Paced: pace.paced(r, every)})
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// stopGently handles Options.Stop: nothing new starts, the calls in
// flight finish. It returns the nil channel the loop then waits on.
func (r *runner) stopGently(inflight int) <-chan struct{} {
	r.stopped, r.interrupted = true, true
	r.obs.Observe(Event{Type: EventStopping, Key: cty.NilVal, InFlight: inflight})
	return nil
}

// resultsNeeded reports, by node index, whether an expression reads a
// step's results: a later step, local or output refers to it. A step
// that is only waited for (depends_on), or not used at all, need not keep
// its instances' results, so a batch of a million calls runs in the
// memory of a few: a resumed run does not even read them back from the
// journal.
func (w *Workflow) resultsNeeded(all bool) []bool {
	needed := make([]bool, len(w.nodes))
	for _, n := range w.nodes {
		if n.step == nil {
			continue
		}
		if all {
			needed[n.index] = true
			continue
		}
		if len(n.step.Postconditions) > 0 {
			needed[n.index] = true // self.result
			continue
		}
	users:
		for _, u := range n.users {
			for _, ref := range u.refs {
				if ref.Addr == n.addr.Local() {
					needed[n.index] = true
					break users
				}
			}
		}
	}
	return needed
}

// unknownSummary is the diagnostic a run ends with when writes of the run
// it resumed have an unknown outcome.
func unknownSummary(ids []string, count int) *hcl.Diagnostic {
	list := ids
	more := ""
	if count > len(ids) {
		more = ", ..."
	}
	detail := "The run being resumed stopped after sending " + pluralize(count, "call") + " and before recording the answer: "
	for i, id := range list {
		if i > 0 {
			detail += ", "
		}
		detail += id
	}
	detail += more + ". They may or may not have taken effect, so they were not sent again, and the steps that use them did not run. Check them (the state holds their parameters), then run again with -resume -retry-unknown to send them again, or with -resume alone to leave them."
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Outcome unknown", Detail: detail}
}
