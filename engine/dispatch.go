package engine

import (
	"context"
	"sync"
)

// dispatcher hands the instances of the queued steps to the workers and
// their results back to the loop. A worker takes its next instance itself,
// as it posts the result of the last one, under one lock: an instance
// costs no hand-off between goroutines, and the loop, woken when results
// are posted, records them in batches (finishInstance), in the order
// posted. What the loop decides from a result (the run stops after a
// failure; a finished step starts those waiting for it) is decided before
// anything more is taken: such a result holds the dispatch until the loop
// has handled it.
type dispatcher struct {
	mu   sync.Mutex
	cond sync.Cond // workers wait here for an instance, a release or the end

	queue   []*stepRun // steps with instances to dispatch, in order (see dequeue)
	closed  bool       // nothing more starts: the run stops
	ended   bool       // the loop is over: the workers return
	hold    int        // results posted that hold the dispatch until the loop has handled them
	strict  bool       // every result holds: one call at a time, each handled before the next
	taken   int        // instances taken whose results the loop has not collected: in flight
	results []result   // posted, not collected yet
	wake    chan struct{}

	stop <-chan struct{} // Options.Stop: once closed, nothing is taken
	done <-chan struct{} // the run's context
}

func newDispatcher(ctx context.Context, opts Options) *dispatcher {
	d := &dispatcher{wake: make(chan struct{}, 1), stop: opts.Stop, done: ctx.Done(), strict: opts.Parallelism == 1}
	d.cond.L = &d.mu
	return d
}

// work runs instances until the loop ends.
func (d *dispatcher) work(run func(pick) result) {
	d.mu.Lock()
	for {
		p, ok := d.take()
		if !ok {
			d.mu.Unlock()
			return
		}
		d.mu.Unlock()
		res := run(p)
		d.mu.Lock()
		d.post(p, res)
	}
}

// take waits for the next instance to run; false when the loop has
// ended. It is called with mu held.
func (d *dispatcher) take() (pick, bool) {
	for {
		if d.ended {
			return pick{}, false
		}
		if !d.closed && d.hold == 0 && !d.stopping() {
			if p := d.dequeue(); p.b != nil {
				d.taken++
				p.b.out++
				return p, true
			}
		}
		d.cond.Wait()
	}
}

// stopping reports whether Stop is closed or the context cancelled: no
// call starts then, before the loop has even seen it.
func (d *dispatcher) stopping() bool {
	select {
	case <-d.stop:
		return true
	case <-d.done:
		return true
	default:
		return false
	}
}

// post hands the result of p to the loop. It is called with mu held.
func (d *dispatcher) post(p pick, res result) {
	p.b.out--
	if d.strict || res.err != nil || res.diags.HasErrors() || p.b.out == 0 && !p.b.more() {
		res.held = true
		d.hold++
	}
	d.results = append(d.results, res)
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// push queues a step's instances.
func (d *dispatcher) push(sr *stepRun) {
	d.mu.Lock()
	d.queue = append(d.queue, sr)
	d.mu.Unlock()
}

// dequeue picks the next instance to dispatch, from the first step in the
// queue that has one left; a zero pick when there is none. It is called
// with mu held.
func (d *dispatcher) dequeue() pick {
	for len(d.queue) > 0 {
		b := d.queue[0].b
		if b.more() {
			b.next++
			return pick{b: b, i: b.next - 1}
		}
		d.queue[0] = nil
		d.queue = d.queue[1:]
	}
	return pick{}
}

// pending reports whether an instance is left to dispatch. It is called
// with mu held.
func (d *dispatcher) pending() bool {
	for len(d.queue) > 0 {
		if d.queue[0].b.more() {
			return true
		}
		d.queue[0] = nil
		d.queue = d.queue[1:]
	}
	return false
}

// inFlight is how many instances are taken whose results the loop has
// not collected.
func (d *dispatcher) inFlight() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.taken
}

// end makes the workers return once they have posted what they run.
func (d *dispatcher) end() {
	d.mu.Lock()
	d.ended = true
	d.cond.Broadcast()
	d.mu.Unlock()
}
