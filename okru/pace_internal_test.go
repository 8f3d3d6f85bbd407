package okru

import (
	"encoding/json"
	"testing"
	"time"
)

func TestPacerAdapts(t *testing.T) {
	t.Parallel()
	p := newPacer(100, 0, 0)
	if p.lim.Burst() != 100 || p.floor != 10 {
		t.Fatalf("burst %d floor %v, want one second's worth and a tenth", p.lim.Burst(), p.floor)
	}
	e := p.epochNow()
	p.slowDown(e)
	if got := p.current(); got != 50 {
		t.Errorf("after one throttle: %v, want 50", got)
	}
	// Answers to calls sent before that slow-down are the same signal.
	p.slowDown(e)
	p.slowDown(e)
	if got := p.current(); got != 50 {
		t.Errorf("stale throttle answers halved again: %v", got)
	}
	for range 10 {
		p.slowDown(p.epochNow())
	}
	if got := p.current(); got != 10 {
		t.Errorf("rate fell to %v, want the floor 10", got)
	}
	if got := float64(p.lim.Limit()); got != 10 {
		t.Errorf("limiter rate %v, want 10", got)
	}
	for range 100 {
		p.success()
	}
	if got := p.current(); got != 100 {
		t.Errorf("after successes: %v, want the ceiling 100", got)
	}
	if p.slowed.Load() {
		t.Error("still marked slowed at the ceiling")
	}
}

func TestPacerConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		rate      float64
		burst     int
		minRate   float64
		off       bool
		wantRate  float64
		wantBurst int
		wantFloor float64
	}{
		{name: "defaults", wantRate: DefaultRate, wantBurst: DefaultBurst, wantFloor: DefaultRate / 10},
		{name: "unlimited", rate: Unlimited, off: true},
		{name: "any negative", rate: -5, off: true},
		{name: "slow rate has burst one", rate: 0.5, wantRate: 0.5, wantBurst: 1, wantFloor: 0.05},
		{name: "explicit", rate: 20, burst: 4, minRate: 2, wantRate: 20, wantBurst: 4, wantFloor: 2},
		{name: "floor above rate is capped", rate: 5, minRate: 50, wantRate: 5, wantBurst: 5, wantFloor: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPacer(tt.rate, tt.burst, tt.minRate)
			if tt.off {
				if p != nil {
					t.Fatal("pacing is on")
				}
				// A nil pacer is usable and never waits.
				if err := p.wait(t.Context()); err != nil {
					t.Fatal(err)
				}
				p.slowDown(p.epochNow())
				p.success()
				return
			}
			if p.ceiling != tt.wantRate || p.lim.Burst() != tt.wantBurst || p.floor != tt.wantFloor {
				t.Errorf("rate %v burst %d floor %v, want %v %d %v", p.ceiling, p.lim.Burst(), p.floor, tt.wantRate, tt.wantBurst, tt.wantFloor)
			}
		})
	}
}

func TestBackoffBounds(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}.withDefaults()
	caps := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second}
	for attempt := 1; attempt <= 64; attempt++ {
		limit := time.Second
		if attempt <= len(caps) {
			limit = caps[attempt-1]
		}
		for range 50 {
			if d := p.backoff(attempt); d < 0 || d > limit {
				t.Fatalf("backoff(%d) = %v, want within [0, %v]", attempt, d, limit)
			}
		}
	}
	if got := (RetryPolicy{}).withDefaults(); got != (RetryPolicy{DefaultMaxAttempts, DefaultMinBackoff, DefaultMaxBackoff}) {
		t.Errorf("defaults = %+v", got)
	}
	if got := (RetryPolicy{MinBackoff: time.Minute}).withDefaults(); got.MaxBackoff != time.Minute {
		t.Errorf("MaxBackoff below MinBackoff not raised: %+v", got)
	}
}

func TestNextAnchor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw        string
		style      PagingStyle
		wantAnchor string
		wantMore   bool
	}{
		{`{"anchor":"A","has_more":true}`, PagingAnchor, "A", true},
		{`{"anchor":"A","has_more":false}`, PagingAnchor, "A", false},
		{`{"pagingAnchor":"P","hasMore":true}`, PagingPaging, "P", true},
		{`{"anchor":"A","pagingAnchor":"P"}`, PagingPaging, "P", true},
		{`{"anchor":"A","pagingAnchor":"P"}`, PagingAnchor, "A", true},
		{`{"pagingAnchor":"P","has_more":true}`, PagingAnchor, "P", true},
		{`{"anchor":12345}`, PagingAnchor, "12345", true},
		{`{"anchor":null,"has_more":true}`, PagingAnchor, "", true},
		{`["1","2"]`, PagingAnchor, "", false},
		{`"text"`, PagingAnchor, "", false},
	}
	for _, tt := range tests {
		anchor, more := nextAnchor(json.RawMessage(tt.raw), tt.style)
		if anchor != tt.wantAnchor || more != tt.wantMore {
			t.Errorf("nextAnchor(%s, %s) = %q, %v; want %q, %v", tt.raw, tt.style, anchor, more, tt.wantAnchor, tt.wantMore)
		}
	}
}
