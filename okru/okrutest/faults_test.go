package okrutest

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/okru-run/okru-run/okru"
)

// codes calls method n times and returns the error codes (0 for results).
func codes(t *testing.T, c caller, method string, params map[string]string, n int) []int {
	t.Helper()
	out := make([]int, n)
	for i := range out {
		out[i] = c.call(t, method, params).errorCode()
	}
	return out
}

func TestErrorRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		rules  []ErrorRule
		method string
		want   []int
	}{
		{"nth for times", []ErrorRule{{Method: "friends.get", Code: 1, Nth: 2, Times: 2}}, "friends.get", []int{0, 1, 1, 0, 0}},
		{"nth once by default", []ErrorRule{{Method: "friends.get", Code: 2, Nth: 3}}, "friends.get", []int{0, 0, 2, 0}},
		{"other methods unaffected", []ErrorRule{{Method: "friends.get", Code: 1, Nth: 1}}, "users.getLoggedInUser", []int{0, 0}},
		{"every call, capped", []ErrorRule{{Code: 9999, Times: 2}}, "users.getLoggedInUser", []int{9999, 9999, 0}},
		{"rate one", []ErrorRule{{Method: "friends.get", Code: 8, Rate: 1, Times: 3}}, "friends.get", []int{8, 8, 8, 0}},
		{"first firing rule wins", []ErrorRule{{Code: 1, Nth: 2}, {Code: 2, Nth: 1, Times: 3}}, "friends.get", []int{2, 1, 2, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t, Config{Seed: 20})
			for _, r := range tc.rules {
				s.InjectError(r)
			}
			got := codes(t, demoCaller(s, circuitServer), tc.method, nil, len(tc.want))
			if !slices.Equal(got, tc.want) {
				t.Fatalf("codes %v, want %v", got, tc.want)
			}
			var logged []int
			for _, c := range s.Calls() {
				logged = append(logged, int(c.Code))
			}
			if !slices.Equal(logged, tc.want) {
				t.Fatalf("call log codes %v, want %v", logged, tc.want)
			}
		})
	}
}

func TestInjectedErrorEnvelope(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 21})
	s.InjectError(ErrorRule{Method: "friends.get", Code: okru.CodeService, Msg: "backend down"})
	checkErrorAnswer(t, demoCaller(s, circuitClient).call(t, "friends.get", nil), okru.CodeService, "backend down")
}

// A rate rule fails some calls and not others, the same ones for the same
// seed, so that a failing test can be replayed.
func TestErrorRateIsSeeded(t *testing.T) {
	t.Parallel()
	var runs [2][]int
	for i := range runs {
		s := newTestServer(t, Config{Seed: 22, Faults: Faults{Errors: []ErrorRule{{Method: "friends.get", Code: 1, Rate: 0.3}}}})
		runs[i] = codes(t, demoCaller(s, circuitServer), "friends.get", nil, 60)
	}
	failed := 0
	for _, c := range runs[0] {
		if c != 0 {
			failed++
		}
	}
	if failed == 0 || failed == len(runs[0]) {
		t.Fatalf("rate 0.3 failed %d of %d calls", failed, len(runs[0]))
	}
	if !slices.Equal(runs[0], runs[1]) {
		t.Fatalf("one seed, different failures:\n%v\n%v", runs[0], runs[1])
	}
}

func TestLatencyHonoursContext(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 23})
	c := demoCaller(s, circuitServer)
	s.SetLatency(time.Hour)

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	p := c.prepare("friends.get", nil)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/fb.do", strings.NewReader(encodeForm(p)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("call under an hour of latency: %v, want the client's deadline", err)
	}
	// The server stops waiting when the client goes away and logs the call
	// as abandoned (instead of holding a goroutine for an hour).
	waitFor(t, func() bool {
		calls := s.Calls()
		return len(calls) == 1 && calls[0].Abandoned && calls[0].Method == "friends.get"
	})

	s.SetLatency(time.Millisecond)
	result[[]string](t, c, "friends.get", nil)
	if f := s.Faults(); f.Latency != time.Millisecond {
		t.Errorf("Faults().Latency = %v", f.Latency)
	}
}

// waitFor polls cond until it holds or the test's context ends.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-t.Context().Done():
			t.Fatal("condition never held")
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func TestFloodLimitPerToken(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := newTestServer(t, Config{Seed: 24, Now: clock.Now})
	a := demoCaller(s, circuitServer)
	b := tokenCaller(s, s.IssueToken(s.DemoUser().UID, Scopes...), circuitClient)
	s.SetFloodLimit(1, 3)

	if got := codes(t, a, "friends.get", nil, 4); !slices.Equal(got, []int{0, 0, 0, 8}) {
		t.Fatalf("burst of 3: codes %v", got)
	}
	checkErrorAnswer(t, a.call(t, "friends.get", nil), okru.CodeFloodBlocked, "slow down")
	if got := codes(t, b, "friends.get", nil, 1); got[0] != 0 {
		t.Fatal("another token shares the flood bucket")
	}
	clock.Add(time.Second)
	if got := codes(t, a, "friends.get", nil, 2); !slices.Equal(got, []int{0, 8}) {
		t.Fatalf("after one second at 1/s: codes %v", got)
	}
	clock.Add(10 * time.Second)
	left := result[[]callsLeftJSON](t, a, "users.getCallsLeft", map[string]string{"methods": "friends.get"})
	if left[0].CallsLeft != 2 { // the burst of 3 minus this call
		t.Errorf("callsLeft %d, want 2", left[0].CallsLeft)
	}
	s.SetFloodLimit(0, 0)
	if got := codes(t, a, "friends.get", nil, 10); slices.Contains(got, 8) {
		t.Fatalf("flood limit lifted but codes %v", got)
	}
}

func TestExpireTokenAndReset(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 25})
	c := demoCaller(s, circuitClient)
	if s.ExpireToken("-s-unknown") {
		t.Error("ExpireToken of an unknown token reported true")
	}
	if !s.ExpireToken(s.DemoUser().AccessToken) {
		t.Fatal("ExpireToken of the demo token reported false")
	}
	checkErrorAnswer(t, c.call(t, "users.getLoggedInUser", nil), okru.CodeParamSessionExpired, "")
	s.SetLatency(time.Millisecond)
	s.InjectError(ErrorRule{Code: 1, Nth: 2})

	s.Reset()
	if n := len(s.Calls()); n != 0 {
		t.Errorf("%d calls after Reset", n)
	}
	if f := s.Faults(); f.Latency != 0 || len(f.Errors) != 0 {
		t.Errorf("faults after Reset: %+v", f)
	}
	if got := codes(t, c, "users.getLoggedInUser", nil, 3); !slices.Equal(got, []int{0, 0, 0}) {
		t.Fatalf("after Reset: codes %v", got)
	}
}

func TestInvalidFaultsPanic(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 26})
	for name, f := range map[string]func(){
		"zero code":     func() { s.InjectError(ErrorRule{Method: "friends.get"}) },
		"nth and rate":  func() { s.InjectError(ErrorRule{Code: 1, Nth: 1, Rate: 0.5}) },
		"rate above 1":  func() { s.SetFaults(Faults{Errors: []ErrorRule{{Code: 1, Rate: 2}}}) },
		"negative wait": func() { s.SetFaults(Faults{Latency: -time.Second}) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			f()
		})
	}
	if _, err := Start(Config{Users: 3}); err == nil || !strings.Contains(err.Error(), "at least") {
		t.Errorf("Start with 3 users: %v", err)
	}
}

// The sandbox is used from parallel tests and benchmarks: calls, faults and
// the log must be safe together (run with -race).
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 27})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			c := demoCaller(s, []string{circuitServer, circuitClient}[i%2])
			for range 25 {
				c.call(t, "friends.get", nil)
				c.call(t, "mediatopic.post", map[string]string{"type": "USER", "attachment": `{"media":[{"type":"text","text":"x"}]}`})
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			s.InjectError(ErrorRule{Code: 1, Rate: 0.1})
			s.SetFloodLimit(1000, 1000)
			_ = s.Calls()
			_ = s.Faults()
			s.Reset()
		}
	})
	wg.Wait()
}
