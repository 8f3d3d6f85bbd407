package okrutest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/okru-run/okru-run/okru"
)

// Faults are the failures the sandbox injects into API calls. The zero value
// injects nothing. Faults apply to /fb.do and /api/ calls only, never to the
// control endpoint; LoginCaptcha applies to the login form and auth.login.
type Faults struct {
	// Latency delays every API call before it is checked. The delay ends
	// early when the client goes away, as a real server's would.
	Latency time.Duration `json:"latency"`
	// Errors answer chosen calls with an error code instead of a result.
	Errors []ErrorRule `json:"errors,omitempty"`
	// FloodLimit caps the calls per second of each token (calls without a
	// session share one bucket per application); calls beyond it answer
	// FLOOD_BLOCKED (8). Zero means no limit.
	FloodLimit float64 `json:"flood_limit,omitempty"`
	// FloodBurst is how many calls a token may make at once before the limit
	// bites; zero means max(1, FloodLimit).
	FloodBurst int `json:"flood_burst,omitempty"`
	// LoginCaptcha answers a posted login form with a captcha page, and
	// auth.login with AUTH_LOGIN_CAPTCHA (402), as ok.ru does after
	// suspicious logins.
	LoginCaptcha bool `json:"login_captcha,omitempty"`
}

// ErrorRule answers matching calls with Code. A rule fires either on the
// Nth matching call and the Times-1 following ones, or at random with
// probability Rate, or, when neither is set, on every matching call; Times
// caps how often it fires. When several rules fire on one call, the first
// one added answers. The random choice is seeded from Config.Seed, so
// a test run is repeatable.
type ErrorRule struct {
	Method string    `json:"method,omitempty"` // "" matches every method
	Code   okru.Code `json:"code"`
	Msg    string    `json:"msg,omitempty"`   // error text; defaults to a note that the error is injected
	Nth    int       `json:"nth,omitempty"`   // 1-based index of the first failing matching call
	Rate   float64   `json:"rate,omitempty"`  // probability in (0, 1]
	Times  int       `json:"times,omitempty"` // how many times it fires; 0 means once with Nth, else unlimited
}

// Validate reports what is wrong with the rule.
func (r ErrorRule) Validate() error {
	switch {
	case r.Code <= 0:
		return fmt.Errorf("error rule for %q: code must be a positive ok.ru error code", r.Method)
	case r.Nth < 0 || r.Times < 0:
		return fmt.Errorf("error rule for %q: nth and times must not be negative", r.Method)
	case r.Rate < 0 || r.Rate > 1:
		return fmt.Errorf("error rule for %q: rate must be between 0 and 1", r.Method)
	case r.Nth > 0 && r.Rate > 0:
		return fmt.Errorf("error rule for %q: set nth or rate, not both", r.Method)
	}
	return nil
}

// Validate reports what is wrong with the faults.
func (f Faults) Validate() error {
	var errs []error
	if f.Latency < 0 {
		errs = append(errs, errors.New("latency must not be negative"))
	}
	if f.FloodLimit < 0 || f.FloodBurst < 0 {
		errs = append(errs, errors.New("flood limit and burst must not be negative"))
	}
	for _, r := range f.Errors {
		if err := r.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// MarshalJSON writes Latency as a duration string ("250ms").
func (f Faults) MarshalJSON() ([]byte, error) {
	type plain Faults
	return json.Marshal(struct {
		plain
		Latency string `json:"latency"`
	}{plain(f), f.Latency.String()})
}

// UnmarshalJSON reads Latency as a duration string ("250ms") or as
// nanoseconds.
func (f *Faults) UnmarshalJSON(b []byte) error {
	type plain Faults
	var aux struct {
		plain
		Latency json.RawMessage `json:"latency"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*f = Faults(aux.plain)
	f.Latency = 0
	if len(aux.Latency) == 0 || string(aux.Latency) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(aux.Latency, &s); err == nil {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("latency: %w", err)
		}
		f.Latency = d
		return nil
	}
	var ns int64
	if err := json.Unmarshal(aux.Latency, &ns); err != nil {
		return errors.New(`latency: want a duration such as "250ms"`)
	}
	f.Latency = time.Duration(ns)
	return nil
}

// faultState is the live form of Faults. Latency and "are there rules" are
// atomics so that a call without faults takes no lock.
type faultState struct {
	latency  atomic.Int64
	hasRules atomic.Bool
	hasFlood atomic.Bool
	captcha  atomic.Bool

	mu      sync.Mutex
	rules   []*ruleState
	rnd     *rand.Rand
	flood   float64
	burst   int
	buckets map[string]*rate.Limiter
}

type ruleState struct {
	ErrorRule
	seen  int // matching calls so far
	fired int
}

func newFaultState(seed uint64) *faultState {
	return &faultState{rnd: rand.New(rand.NewPCG(seed, 0x5eed)), buckets: map[string]*rate.Limiter{}}
}

// set replaces every fault; f must be valid.
func (fs *faultState) set(f Faults) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.latency.Store(int64(f.Latency))
	fs.rules = fs.rules[:0]
	for _, r := range f.Errors {
		fs.rules = append(fs.rules, &ruleState{ErrorRule: r})
	}
	fs.hasRules.Store(len(fs.rules) > 0)
	fs.setFloodLocked(f.FloodLimit, f.FloodBurst)
	fs.captcha.Store(f.LoginCaptcha)
}

func (fs *faultState) get() Faults {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f := Faults{Latency: time.Duration(fs.latency.Load()), FloodLimit: fs.flood, LoginCaptcha: fs.captcha.Load()}
	if fs.flood > 0 {
		f.FloodBurst = fs.burst
	}
	for _, r := range fs.rules {
		f.Errors = append(f.Errors, r.ErrorRule)
	}
	return f
}

func (fs *faultState) addRule(r ErrorRule) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.rules = append(fs.rules, &ruleState{ErrorRule: r})
	fs.hasRules.Store(true)
}

func (fs *faultState) setFlood(perSecond float64, burst int) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.setFloodLocked(perSecond, burst)
}

func (fs *faultState) setFloodLocked(perSecond float64, burst int) {
	fs.flood = perSecond
	fs.burst = burst
	if fs.burst <= 0 {
		fs.burst = int(max(1, perSecond))
	}
	clear(fs.buckets)
	fs.hasFlood.Store(perSecond > 0)
}

// delay sleeps for the injected latency; it returns false when ctx ended
// first.
func (fs *faultState) delay(ctx context.Context) bool {
	d := time.Duration(fs.latency.Load())
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// injected returns the error of the first rule that fires for method, or
// nil. Every rule matching the method counts the call, fired or not.
func (fs *faultState) injected(method string) *apiError {
	if !fs.hasRules.Load() {
		return nil
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var hit *ruleState
	for _, r := range fs.rules {
		if r.Method != "" && r.Method != method {
			continue
		}
		r.seen++
		if hit == nil && r.fires(fs.rnd) {
			r.fired++
			hit = r
		}
	}
	if hit == nil {
		return nil
	}
	msg := hit.Msg
	if msg == "" {
		msg = "sandbox: injected error"
	}
	return &apiError{code: hit.Code, msg: msg}
}

// fires decides whether the rule fails the call just counted in seen.
func (r *ruleState) fires(rnd *rand.Rand) bool {
	times := r.Times
	if times == 0 && r.Nth > 0 {
		times = 1
	}
	if times > 0 && r.fired >= times {
		return false
	}
	switch {
	case r.Nth > 0:
		// A window of matching calls: Nth .. Nth+times-1, whether or not
		// an earlier rule answered some of them.
		return r.seen >= r.Nth && r.seen < r.Nth+times
	case r.Rate > 0:
		return rnd.Float64() < r.Rate
	}
	return true
}

// allow takes one call from key's token bucket; false means the call is
// over the flood limit.
func (fs *faultState) allow(key string, now time.Time) bool {
	if !fs.hasFlood.Load() {
		return true
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.flood <= 0 {
		return true
	}
	return fs.limiter(key).AllowN(now, 1)
}

// left returns how many calls key may make right now, or -1 without a limit.
func (fs *faultState) left(key string, now time.Time) int {
	if !fs.hasFlood.Load() {
		return -1
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.flood <= 0 {
		return -1
	}
	return int(fs.limiter(key).TokensAt(now))
}

// limiter returns key's bucket, full when new. The buckets run on the
// sandbox's clock (Config.Now), which tests move by hand, so calls pass
// their time instead of the limiter reading the wall clock.
func (fs *faultState) limiter(key string) *rate.Limiter {
	l, ok := fs.buckets[key]
	if !ok {
		l = rate.NewLimiter(rate.Limit(fs.flood), fs.burst)
		fs.buckets[key] = l
	}
	return l
}

// loginCaptcha reports whether logins answer with a captcha.
func (fs *faultState) loginCaptcha() bool { return fs.captcha.Load() }
