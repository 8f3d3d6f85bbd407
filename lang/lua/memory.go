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

// guardMemory returns a context that ends, with a *memoryError cause, when
// the process's heap grows more than limit bytes beyond what it was at the
// start, and a func that stops the guard.
func guardMemory(ctx context.Context, limit int64) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	base := heapBytes()
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(memoryInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if heapBytes()-base > limit {
					cancel(&memoryError{limit})
					return
				}
			}
		}
	}()
	return ctx, func() {
		close(done)
		cancel(nil)
	}
}
