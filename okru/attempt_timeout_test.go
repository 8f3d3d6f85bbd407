package okru_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/okru-run/okru-run/okru"
)

// stall answers with a body that promises 1000 bytes, sends 7 and then
// waits until the client gives up.
func stall(w http.ResponseWriter, r *http.Request, _ fakeRequest) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.Header().Set("Content-Length", "1000")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(`{"uid":`))
	w.(http.Flusher).Flush()
	<-r.Context().Done()
}

// stallHeaders never answers at all.
func stallHeaders(_ http.ResponseWriter, r *http.Request, _ fakeRequest) { <-r.Context().Done() }

// TestAttemptTimeout: an answer that stalls fails the attempt with a
// *TransportError that is retried like a broken connection (reads only,
// as the request was sent), instead of holding the call forever.
func TestAttemptTimeout(t *testing.T) {
	t.Parallel()
	const short = 50 * time.Millisecond
	tests := []struct {
		name      string
		answer    func(http.ResponseWriter, *http.Request, fakeRequest)
		opts      okru.Options
		callOpts  []okru.CallOption
		method    string
		wantTries int
	}{
		{"stalled body, read retried", stall, okru.Options{AttemptTimeout: short}, nil, "users.getInfo", okru.DefaultMaxAttempts},
		{"stalled headers, read retried", stallHeaders, okru.Options{AttemptTimeout: short}, nil, "users.getInfo", okru.DefaultMaxAttempts},
		{"stalled body, write not repeated", stall, okru.Options{AttemptTimeout: short}, nil, "mediatopic.post", 1},
		{"call option overrides none", stall, okru.Options{AttemptTimeout: -1}, []okru.CallOption{okru.WithAttemptTimeout(short)}, "users.getInfo", okru.DefaultMaxAttempts},
		{"call option overrides the API's", stall, okru.Options{AttemptTimeout: time.Hour}, []okru.CallOption{okru.WithAttemptTimeout(short)}, "users.getInfo", okru.DefaultMaxAttempts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeServer(t, tt.answer)
			// Attempts are counted as the client sends them: under load,
			// an attempt can time out before the server's handler counts it.
			sent := &countingTransport{}
			tt.opts.HTTPClient = &http.Client{Transport: sent}
			api := newTestAPI(f, &tt.opts)
			_, err := api.Call(t.Context(), tt.method, okru.Params{"uids": "1", "type": "GROUP_THEME"}, tt.callOpts...)
			te, ok := errors.AsType[*okru.TransportError](err)
			if !ok {
				t.Fatalf("error %v (%T), want a *okru.TransportError", err, err)
			}
			if !te.Sent {
				t.Errorf("Sent is false for %v", err)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("errors.Is(err, context.DeadlineExceeded) is false for %v", err)
			}
			if !strings.Contains(err.Error(), "no complete answer within the attempt timeout of 50ms") {
				t.Errorf("error %q does not name the attempt timeout", err)
			}
			if got := int(sent.n.Load()); got != tt.wantTries {
				t.Errorf("%d requests sent, want %d", got, tt.wantTries)
			}
			if got := f.Count(); got > tt.wantTries {
				t.Errorf("the server saw %d requests, more than the %d sent", got, tt.wantTries)
			}
		})
	}
}

// TestAttemptTimeoutCallerFirst: when the caller's own context ends first,
// the error is the caller's, not blamed on the attempt timeout, and nothing
// is retried.
func TestAttemptTimeoutCallerFirst(t *testing.T) {
	t.Parallel()
	f := newFakeServer(t, stall)
	api := newTestAPI(f, &okru.Options{AttemptTimeout: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for f.Count() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := api.Call(ctx, "users.getInfo", okru.Params{"uids": "1"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if strings.Contains(err.Error(), "attempt timeout") {
		t.Errorf("error %q blames the attempt timeout", err)
	}
	if got := f.Count(); got != 1 {
		t.Errorf("%d requests, want 1", got)
	}
}
