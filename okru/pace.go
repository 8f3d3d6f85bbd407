package okru

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Pacing defaults. ok.ru publishes no rate limit and answers 8 or 11 when
// pushed, so the default is cautious: 3 calls per second per API, in bursts
// of 3. Batch jobs that know their quota raise Options.Rate.
const (
	DefaultRate  = 3.0
	DefaultBurst = 3
)

// Unlimited as Options.Rate turns pacing off, as any negative rate does;
// throttle answers are still retried after a backoff. Benchmarks and
// sandboxes use it.
const Unlimited = -1.0

// pacer spaces calls with a token bucket whose rate adapts to the server:
// halved on every throttle answer (down to a floor), raised by a fiftieth
// of the ceiling on every success (up to the configured rate). This is
// additive increase, multiplicative decrease, as TCP does for the same
// reason: find the pace the server accepts without a fixed number.
type pacer struct {
	lim     *rate.Limiter
	ceiling float64
	floor   float64
	step    float64

	// epoch counts slow-downs. Calls sent before the last one carry an
	// older epoch and do not halve the rate again: a burst of parallel
	// calls answered "flood" at once is one signal, not twenty.
	epoch  atomic.Uint64
	slowed atomic.Bool // rate is below ceiling; lets success skip the lock

	mu   sync.Mutex
	rate float64

	// waited counts the calls that had to wait for their turn: when it
	// grows as fast as calls are made, the pace, not the network, bounds
	// how fast calls go (see API.PacedCalls).
	waited atomic.Uint64
}

func newPacer(r float64, burst int, minRate float64) *pacer {
	if r < 0 {
		return nil
	}
	if r == 0 {
		r = DefaultRate
	}
	if burst <= 0 {
		// One second's worth of calls.
		burst = max(1, int(math.Ceil(r)))
	}
	floor := minRate
	if floor <= 0 {
		floor = r / 10
	}
	floor = min(floor, r)
	return &pacer{lim: rate.NewLimiter(rate.Limit(r), burst), ceiling: r, floor: floor, step: r / 50, rate: r}
}

var errBurstZero = errors.New("okru: the pacing burst is zero, so no call can ever be sent")

// wait blocks until the pace allows another call or ctx is done.
func (p *pacer) wait(ctx context.Context) error {
	if p == nil {
		return nil
	}
	r := p.lim.Reserve()
	if !r.OK() {
		return errBurstZero
	}
	if d := r.Delay(); d > 0 {
		p.waited.Add(1)
		if err := sleep(ctx, d); err != nil {
			r.Cancel()
			return err
		}
	} else if err := ctx.Err(); err != nil {
		r.Cancel()
		return err
	}
	return nil
}

func (p *pacer) epochNow() uint64 {
	if p == nil {
		return 0
	}
	return p.epoch.Load()
}

// slowDown halves the rate after a throttle answer to a call sent in epoch.
func (p *pacer) slowDown(epoch uint64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.epoch.CompareAndSwap(epoch, epoch+1) {
		return
	}
	p.rate = max(p.floor, p.rate/2)
	p.slowed.Store(p.rate < p.ceiling)
	now := time.Now()
	p.lim.SetLimitAt(now, rate.Limit(p.rate))
	// Spend the saved-up burst too, so that the slower pace starts now
	// rather than after the bucket has emptied at full speed.
	if n := int(p.lim.TokensAt(now)); n > 0 {
		p.lim.AllowN(now, n)
	}
}

// success raises a lowered rate by one step.
func (p *pacer) success() {
	if p == nil || !p.slowed.Load() {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rate = min(p.ceiling, p.rate+p.step)
	p.slowed.Store(p.rate < p.ceiling)
	p.lim.SetLimit(rate.Limit(p.rate))
}

func (p *pacer) current() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rate
}
