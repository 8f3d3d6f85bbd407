package engine

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/okru-run/okru-run/okru"
)

// TestCallTimeoutStalledAnswer: a call whose answer stalls halfway (1000
// bytes promised, 7 sent) fails when its timeout passes instead of holding
// the run forever; without a timeout okru.DefaultAttemptTimeout bounds each
// attempt the same way.
func TestCallTimeoutStalledAnswer(t *testing.T) {
	t.Parallel()
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"uid":`))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	connect := func(_ context.Context, sc SessionConfig) (Caller, error) {
		sc.APIURL = srv.URL
		sess, err := NewSession(sc)
		if err != nil {
			return nil, err
		}
		return okru.New(sess, &okru.Options{Rate: okru.Unlimited, Retry: okru.RetryPolicy{MinBackoff: 1, MaxBackoff: 1}}), nil
	}
	w := compile(t, testSession+`
call "me" {
  method  = "users.getCurrentUser"
  timeout = "100ms"
}
`)
	res, diags := w.Run(t.Context(), Inputs{}, Options{Connect: connect})
	if res.Status != StatusFailed {
		t.Fatalf("status %v, want failed; %s", res.Status, diags.Error())
	}
	if !strings.Contains(diags.Error(), "timeout 100ms") {
		t.Errorf("diagnostics do not name the timeout: %s", diags.Error())
	}
	if requests.Load() == 0 {
		t.Error("the call was never sent")
	}
}
