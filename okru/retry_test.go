package okru_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/okru-run/okru-run/okru"
)

// failFirst answers the first n requests with fail, then with a result.
func failFirst(n int, fail func(w http.ResponseWriter)) func(http.ResponseWriter, *http.Request, fakeRequest) {
	var seen atomic.Int32
	return func(w http.ResponseWriter, _ *http.Request, _ fakeRequest) {
		if int(seen.Add(1)) <= n {
			fail(w)
			return
		}
		writeResult(w, `{"ok":true}`)
	}
}

func apiErrorAnswer(code okru.Code) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) { writeAPIError(w, code, "injected") }
}

func TestRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		method       string
		failures     int
		fail         func(http.ResponseWriter)
		opts         []okru.CallOption
		maxAttempts  int
		wantAttempts int
		wantFail     bool
		wantErr      okru.Code // the code of the final error, if an *okru.Error
		wantText     string
	}{
		{name: "transient on a read is retried", method: "users.getInfo", failures: 2, fail: apiErrorAnswer(okru.CodeUnknown), wantAttempts: 3},
		{name: "service error is retried", method: "users.getInfo", failures: 1, fail: apiErrorAnswer(okru.CodeService), wantAttempts: 2},
		{name: "network timeout code is retried", method: "users.getInfo", failures: 1, fail: apiErrorAnswer(okru.CodeNetworkTimeout), wantAttempts: 2},
		{name: "throttle on a read is retried", method: "users.getInfo", failures: 2, fail: apiErrorAnswer(okru.CodeFloodBlocked), wantAttempts: 3},
		{name: "transient on a write is not retried", method: "mediatopic.post", failures: 1, fail: apiErrorAnswer(okru.CodeUnknown),
			wantAttempts: 1, wantFail: true, wantErr: okru.CodeUnknown},
		{name: "write retried when allowed", method: "mediatopic.post", failures: 1, fail: apiErrorAnswer(okru.CodeUnknown),
			opts: []okru.CallOption{okru.AllowRetry()}, wantAttempts: 2},
		{name: "request error is not retried", method: "users.getInfo", failures: 1, fail: apiErrorAnswer(okru.CodeParam),
			wantAttempts: 1, wantFail: true, wantErr: okru.CodeParam},
		{name: "auth error is not retried", method: "users.getInfo", failures: 1, fail: apiErrorAnswer(okru.CodeParamSignature),
			wantAttempts: 1, wantFail: true, wantErr: okru.CodeParamSignature},
		{name: "gives up after max attempts", method: "users.getInfo", failures: 100, fail: apiErrorAnswer(okru.CodeService),
			wantAttempts: okru.DefaultMaxAttempts, wantFail: true, wantErr: okru.CodeService, wantText: "gave up after 4 attempts"},
		{name: "policy per call", method: "users.getInfo", failures: 100, fail: apiErrorAnswer(okru.CodeService),
			opts: []okru.CallOption{okru.WithRetry(okru.RetryPolicy{MaxAttempts: 2, MinBackoff: 1, MaxBackoff: 1})}, wantAttempts: 2, wantFail: true, wantErr: okru.CodeService},
		{name: "one attempt turns retries off", method: "users.getInfo", failures: 1, fail: apiErrorAnswer(okru.CodeService),
			maxAttempts: 1, wantAttempts: 1, wantFail: true, wantErr: okru.CodeService},
		{name: "gateway error on a read is retried", method: "users.getInfo", failures: 1,
			fail: func(w http.ResponseWriter) { http.Error(w, "bad gateway", http.StatusBadGateway) }, wantAttempts: 2},
		{name: "http 500 is not retried", method: "users.getInfo", failures: 1,
			fail: func(w http.ResponseWriter) { http.Error(w, "boom", http.StatusInternalServerError) }, wantAttempts: 1,
			wantFail: true, wantText: "HTTP 500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeServer(t, failFirst(tt.failures, tt.fail))
			retry := fastRetry
			retry.MaxAttempts = tt.maxAttempts
			api := newTestAPI(f, &okru.Options{Retry: retry})
			var infos []okru.RetryInfo
			opts := append([]okru.CallOption{okru.OnRetry(func(ri okru.RetryInfo) { infos = append(infos, ri) })}, tt.opts...)
			_, err := api.Call(t.Context(), tt.method, okru.Params{"uid": "1"}, opts...)
			if got := f.Count(); got != tt.wantAttempts {
				t.Errorf("server saw %d attempts, want %d", got, tt.wantAttempts)
			}
			if len(infos) != tt.wantAttempts-1 {
				t.Errorf("OnRetry called %d times, want %d", len(infos), tt.wantAttempts-1)
			}
			for i, ri := range infos {
				if ri.Attempt != i+1 || ri.Method != tt.method || ri.Err == nil || ri.Wait < 0 || ri.Wait > retry.MaxBackoff {
					t.Errorf("RetryInfo %d = %+v", i, ri)
				}
			}
			if !tt.wantFail {
				if err != nil {
					t.Fatalf("Call failed: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Call succeeded, want an error")
			}
			if tt.wantErr != 0 && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not contain %q", err, tt.wantText)
			}
		})
	}
}

// TestDialErrorRetried: a refused connection means the request never left,
// so even a write is retried, and the error says so.
func TestDialErrorRetried(t *testing.T) {
	t.Parallel()
	s := okru.ServerSession(appKey, appSecretKey, accessToken, okru.WithAPIURL(closedURL(t)))
	api := okru.New(s, &okru.Options{Rate: okru.Unlimited, Retry: fastRetry})
	retries := 0
	_, err := api.Call(t.Context(), "mediatopic.post", nil, okru.OnRetry(func(okru.RetryInfo) { retries++ }))
	var te *okru.TransportError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v (%T), want *okru.TransportError", err, err)
	}
	if te.Sent {
		t.Error("Sent = true for a refused connection")
	}
	if retries != okru.DefaultMaxAttempts-1 {
		t.Errorf("retried %d times, want %d", retries, okru.DefaultMaxAttempts-1)
	}
	if !strings.Contains(err.Error(), "is the API URL right") {
		t.Errorf("error %q gives no hint", err)
	}
}

// TestBrokenConnectionWrite: a connection that breaks after the request was
// written may have run the call, so a write is not repeated.
func TestBrokenConnectionWrite(t *testing.T) {
	t.Parallel()
	for _, method := range []string{"mediatopic.post", "users.getInfo"} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ fakeRequest) {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					conn.Close()
				}
			})
			_, err := newTestAPI(f, nil).Call(t.Context(), method, nil)
			var te *okru.TransportError
			if !errors.As(err, &te) || !te.Sent {
				t.Fatalf("err = %v, want a *TransportError with Sent", err)
			}
			want := 1
			if okru.IsReadOnly(method) {
				want = okru.DefaultMaxAttempts
			}
			if got := f.Count(); got != want {
				t.Errorf("server saw %d attempts, want %d", got, want)
			}
		})
	}
}

// TestCancelDuringBackoff cancels the context while the call waits to
// retry: Call returns at once with both the cause and the last answer.
func TestCancelDuringBackoff(t *testing.T) {
	t.Parallel()
	f := newFakeServer(t, failFirst(100, apiErrorAnswer(okru.CodeService)))
	// Waits of up to an hour: only the cancellation can end this test.
	api := newTestAPI(f, &okru.Options{Retry: okru.RetryPolicy{MinBackoff: okru.DefaultMaxBackoff * 720, MaxBackoff: okru.DefaultMaxBackoff * 720}})
	ctx, cancel := context.WithCancel(t.Context())
	_, err := api.Call(ctx, "users.getInfo", nil, okru.OnRetry(func(okru.RetryInfo) { cancel() }))
	if !errors.Is(err, context.Canceled) || !errors.Is(err, okru.CodeService) {
		t.Fatalf("err = %v, want context.Canceled and SERVICE", err)
	}
	if f.Count() != 1 {
		t.Errorf("server saw %d attempts, want 1", f.Count())
	}
}

// TestCancelDuringRequest cancels while a slow server holds the request.
func TestCancelDuringRequest(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{})
	f := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ fakeRequest) {
		close(arrived)
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(t.Context())
	go func() { <-arrived; cancel() }()
	_, err := newTestAPI(f, nil).Call(ctx, "users.getInfo", nil)
	var te *okru.TransportError
	if !errors.As(err, &te) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want a *TransportError wrapping context.Canceled", err)
	}
	if f.Count() != 1 {
		t.Errorf("server saw %d attempts, want 1: a cancelled call is not retried", f.Count())
	}
}

// TestCancelWhilePaced: a call waiting for its turn gives up with ctx.
func TestCancelWhilePaced(t *testing.T) {
	t.Parallel()
	f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ fakeRequest) { writeResult(w, `1`) })
	// One call per hour after the first.
	api := newTestAPI(f, &okru.Options{Rate: 1.0 / 3600, Burst: 1})
	if _, err := api.Call(t.Context(), "users.getInfo", nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := api.Call(ctx, "users.getInfo", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if f.Count() != 1 {
		t.Errorf("server saw %d calls, want 1", f.Count())
	}
}

// TestThrottleSlowsDown: throttle answers halve the pace, successes bring
// it back up.
func TestThrottleSlowsDown(t *testing.T) {
	t.Parallel()
	f := newFakeServer(t, failFirst(1, apiErrorAnswer(okru.CodeFloodBlocked)))
	api := newTestAPI(f, &okru.Options{Rate: 1000, Burst: 10})
	if got := api.Rate(); got != 1000 {
		t.Fatalf("initial rate = %v", got)
	}
	if _, err := api.Call(t.Context(), "users.getInfo", nil); err != nil {
		t.Fatal(err)
	}
	// One throttle answer halves, one success adds a fiftieth back.
	if got := api.Rate(); got != 520 {
		t.Errorf("rate after a flood answer and a success = %v, want 520", got)
	}
	for range 25 {
		if _, err := api.Call(t.Context(), "users.getInfo", nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := api.Rate(); got != 1000 {
		t.Errorf("rate after successes = %v, want back to 1000", got)
	}
}

// TestRefresh covers the refresh hook: an expired token (102) is refreshed
// once, the new token is stored and reported, and the call repeated once.
func TestRefresh(t *testing.T) {
	t.Parallel()
	const oldToken, newToken, refreshToken = "old-token-123456", "new-token-654321", "refresh-token-abcdef"
	// The server accepts only the new token.
	answer := func(w http.ResponseWriter, _ *http.Request, req fakeRequest) {
		if req.Form.Get("access_token") != newToken {
			writeAPIError(w, okru.CodeParamSessionExpired, "Session expired")
			return
		}
		if !signatureOK(req.Form, okru.ServerSecret(newToken, appSecretKey)) {
			writeAPIError(w, okru.CodeParamSignature, "bad sig")
			return
		}
		writeResult(w, `{"uid":"1"}`)
	}
	tests := []struct {
		name      string
		refresher func(calls *atomic.Int32) okru.RefreshFunc
		wantErr   bool
		wantCalls int32
		wantSent  int
		wantText  string
	}{
		{name: "refreshed", wantCalls: 1, wantSent: 2, refresher: func(calls *atomic.Int32) okru.RefreshFunc {
			return func(_ context.Context, s *okru.Session) (okru.Token, error) {
				calls.Add(1)
				if s.Token().RefreshToken != refreshToken {
					return okru.Token{}, errors.New("refresher did not get the refresh token")
				}
				return okru.Token{AccessToken: newToken}, nil
			}
		}},
		{name: "refresh fails", wantErr: true, wantText: "refreshing the token failed: grant revoked", wantCalls: 1, wantSent: 1, refresher: func(calls *atomic.Int32) okru.RefreshFunc {
			return func(context.Context, *okru.Session) (okru.Token, error) {
				calls.Add(1)
				return okru.Token{}, errors.New("grant revoked")
			}
		}},
		{name: "refreshed token still expired", wantErr: true, wantCalls: 1, wantSent: 2, refresher: func(calls *atomic.Int32) okru.RefreshFunc {
			return func(context.Context, *okru.Session) (okru.Token, error) {
				calls.Add(1)
				return okru.Token{AccessToken: "also-expired-000000"}, nil
			}
		}},
		{name: "no refresher", wantErr: true, wantSent: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeServer(t, answer)
			var stored []okru.Token
			var mu sync.Mutex
			s := okru.ServerSession(appKey, appSecretKey, oldToken, okru.WithAPIURL(f.URL),
				okru.WithRefreshToken(refreshToken, func(tok okru.Token) { mu.Lock(); stored = append(stored, tok); mu.Unlock() }))
			var calls atomic.Int32
			if tt.refresher != nil {
				s.SetRefresher(tt.refresher(&calls))
			}
			api := okru.New(s, &okru.Options{Rate: okru.Unlimited, Retry: fastRetry})
			// A write: repeating after 102 is safe because the server refused it.
			_, err := api.Call(t.Context(), "users.setStatus", okru.Params{"status": "hi"})
			if calls.Load() != tt.wantCalls {
				t.Errorf("refresher called %d times, want %d", calls.Load(), tt.wantCalls)
			}
			if f.Count() != tt.wantSent {
				t.Errorf("server saw %d calls, want %d", f.Count(), tt.wantSent)
			}
			if tt.wantErr {
				if !errors.Is(err, okru.CodeParamSessionExpired) {
					t.Fatalf("err = %v, want PARAM_SESSION_EXPIRED", err)
				}
				if !strings.Contains(err.Error(), tt.wantText) {
					t.Errorf("error %q does not contain %q", err, tt.wantText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(stored) != 1 || stored[0].AccessToken != newToken || stored[0].RefreshToken != refreshToken {
				t.Errorf("onRefresh got %v, want the new token keeping the refresh token", stored)
			}
			if s.Token().AccessToken != newToken {
				t.Error("session kept the old token")
			}
		})
	}
}

// TestRefreshOnceForParallelCalls: calls that all see the same token
// expire share one refresh.
func TestRefreshOnceForParallelCalls(t *testing.T) {
	t.Parallel()
	const newToken = "fresh-token-777777"
	f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, req fakeRequest) {
		if req.Form.Get("access_token") != newToken {
			writeAPIError(w, okru.CodeParamSessionExpired, "Session expired")
			return
		}
		writeResult(w, `1`)
	})
	s := okru.ServerSession(appKey, appSecretKey, accessToken, okru.WithAPIURL(f.URL))
	var calls atomic.Int32
	s.SetRefresher(func(context.Context, *okru.Session) (okru.Token, error) {
		calls.Add(1)
		return okru.Token{AccessToken: newToken}, nil
	})
	api := okru.New(s, &okru.Options{Rate: okru.Unlimited})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			_, err := api.Call(t.Context(), "users.getInfo", nil)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if calls.Load() != 1 {
		t.Errorf("refresher called %d times, want 1", calls.Load())
	}
}
