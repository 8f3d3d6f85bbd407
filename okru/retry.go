package okru

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"
)

// Retry defaults: a call is tried at most 4 times, waiting a random time up
// to 200ms, 400ms, 800ms between tries, never more than 5s. Together that
// rides out a restart or a short flood block without holding a caller for
// long.
const (
	DefaultMaxAttempts = 4
	DefaultMinBackoff  = 200 * time.Millisecond
	DefaultMaxBackoff  = 5 * time.Second
)

// DefaultAttemptTimeout bounds each attempt of a call (the request and the
// whole answer) when Options.AttemptTimeout is zero. ok.ru answers in well
// under a second; a minute allows for slow links and large results while
// making sure that an answer which stalls halfway cannot hold a call, and
// a run waiting for it, forever.
const DefaultAttemptTimeout = 60 * time.Second

// WithAttemptTimeout bounds each attempt of this call, whatever
// Options.AttemptTimeout says; d <= 0 leaves only ctx's deadline.
func WithAttemptTimeout(d time.Duration) CallOption {
	return func(c *callConfig) { c.attemptTimeout = d }
}

// attempt makes one attempt within the call's attempt timeout. When that
// timeout, rather than ctx, ends the attempt, the *TransportError says so;
// it stays retryable, as any other broken exchange.
func (c *callConfig) attempt(ctx context.Context, attempt attemptFunc) (json.RawMessage, uint64, error) {
	if c.attemptTimeout <= 0 {
		return attempt(ctx)
	}
	actx, cancel := context.WithTimeout(ctx, c.attemptTimeout)
	defer cancel()
	result, gen, err := attempt(actx)
	if err != nil && actx.Err() != nil && ctx.Err() == nil {
		if te, ok := errors.AsType[*TransportError](err); ok {
			te.Err = fmt.Errorf("no complete answer within the attempt timeout of %s: %w", c.attemptTimeout, te.Err)
		}
	}
	return result, gen, err
}

// RetryPolicy says how a failed call is repeated. Zero fields take the
// defaults; MaxAttempts 1 turns retries off.
type RetryPolicy struct {
	MaxAttempts int           // tries in all, the first included
	MinBackoff  time.Duration // the cap of the first wait
	MaxBackoff  time.Duration // the cap of every wait
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.MinBackoff <= 0 {
		p.MinBackoff = DefaultMinBackoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = DefaultMaxBackoff
	}
	p.MaxBackoff = max(p.MaxBackoff, p.MinBackoff)
	return p
}

// backoff returns the wait after the given failed attempt: exponential
// backoff with full jitter, a random time between zero and
// min(MaxBackoff, MinBackoff·2^(attempt-1)). Full jitter spreads the retries
// of many parallel calls that failed together, instead of sending them back
// in one wave.
func (p RetryPolicy) backoff(attempt int) time.Duration {
	ceiling := p.MaxBackoff
	if shift := attempt - 1; shift < 32 {
		if d := p.MinBackoff << shift; d > 0 && d < ceiling {
			ceiling = d
		}
	}
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}

// RetryInfo describes a retry about to be waited for, for OnRetry.
type RetryInfo struct {
	Method  string
	Attempt int           // the attempt that failed, from 1
	Err     error         // why it failed
	Wait    time.Duration // how long the call now waits before the next attempt
}

// retryable reports whether err may go away on a new attempt and whether
// repeating the call is safe.
// The caller's context is checked apart: once it is done nothing is retried.
func (c *callConfig) retryable(method string, err error) bool {
	if _, ok := errors.AsType[*RedirectError](err); ok {
		return false // the same request gets the same redirect
	}
	var te *TransportError
	if errors.As(err, &te) {
		// A request that never left may always be repeated.
		return !te.Sent || c.mayRepeat(method)
	}
	var apiErr *Error
	if errors.As(err, &apiErr) {
		switch apiErr.Code.Class() {
		case ClassTransient, ClassThrottle:
			return c.mayRepeat(method)
		}
		return false
	}
	var de *DecodeError
	if errors.As(err, &de) {
		// A proxy or load balancer in trouble, not ok.ru's answer.
		switch de.Status {
		case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return c.mayRepeat(method)
		}
	}
	return false
}

// mayRepeat reports whether a request that may have reached the server can
// be sent again: the method changes nothing, or the caller said it is safe.
func (c *callConfig) mayRepeat(method string) bool {
	return c.allowRetry || IsReadOnly(method)
}

// isThrottle reports whether err asks the client to slow down.
func isThrottle(err error) bool {
	var apiErr *Error
	if errors.As(err, &apiErr) {
		return apiErr.Code.Class() == ClassThrottle
	}
	var de *DecodeError
	return errors.As(err, &de) && de.Status == http.StatusTooManyRequests
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
