package lua

import (
	"context"
	"fmt"
	"runtime/metrics"
	"time"
)

// DefaultMaxMemory is the memory guard's allowance when Options.MaxMemory
// is zero.
const DefaultMaxMemory = 512 << 20

// memoryInterval is how often the memory guard samples the heap.
var memoryInterval = 50 * time.Millisecond

const heapMetric = "/memory/classes/heap/objects:bytes"

// memoryError is the cause of a run stopped by the memory guard.
type memoryError struct{ limit int64 }

func (e *memoryError) Error() string {
	return fmt.Sprintf("memory limit of %d MiB exceeded", e.limit>>20)
}

// heapBytes returns the bytes of the process's heap objects, live or not
// yet swept.
func heapBytes() int64 {
	s := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}

// memoryGuard stops a run whose heap grows more than limit bytes beyond
// base. A goroutine samples the heap between the VM's steps; the string
// functions call reserve before they build a large result, so that one
// call cannot overshoot the limit between two samples.
type memoryGuard struct {
	base, limit int64
	cancel      context.CancelCauseFunc
}

// guardMemory returns a context that ends, with a *memoryError cause, when
// the process's heap grows more than limit bytes beyond what it was at the
// start, the guard, and a func that stops it.
func guardMemory(ctx context.Context, limit int64) (context.Context, *memoryGuard, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	g := &memoryGuard{base: heapBytes(), limit: limit, cancel: cancel}
	done := make(chan struct{})
	// Read here, not in the goroutine, which may outlive its run (and a
	// test's change of the interval).
	interval := memoryInterval
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if !g.reserve(0) {
					return
				}
			}
		}
	}()
	return ctx, g, func() {
		close(done)
		cancel(nil)
	}
}

// reserve reports whether n more bytes fit in the allowance; when they do
// not, it stops the run with a *memoryError.
func (g *memoryGuard) reserve(n int64) bool {
	if heapBytes()-g.base+n > g.limit {
		g.cancel(&memoryError{g.limit})
		return false
	}
	return true
}
