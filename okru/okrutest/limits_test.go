package okrutest

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestRequestBodyCap: a body announced larger than the cap is refused
// before it is read; one that hides its length fails when it passes the
// cap. Neither reaches the call log in full.
func TestRequestBodyCap(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 50, MaxBodyBytes: 64 << 10})
	big := url.Values{"method": {"users.getInfo"}, "application_key": {s.app.Key}, "uids": {strings.Repeat("1,", 64<<10)}}.Encode()

	var a answer
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+"/fb.do", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if a = do(t, req); a.status != http.StatusRequestEntityTooLarge {
		t.Errorf("an announced %d-byte body gave %d: %.200s", len(big), a.status, a.body)
	}

	// Without Content-Length (chunked), the handler's read fails at the cap.
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+"/fb.do", io.MultiReader(strings.NewReader(big)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if a = do(t, req); a.status == http.StatusOK && a.header.Get("Invocation-Error") == "" {
		t.Errorf("a chunked %d-byte body was accepted: %.200s", len(big), a.body)
	}
	for _, c := range s.Calls() {
		if len(c.Params["uids"]) > 64<<10 {
			t.Errorf("the call log holds a %d-byte parameter", len(c.Params["uids"]))
		}
	}

	// The token endpoint and the login pages are capped too.
	for _, path := range []string{"/oauth/token.do", "/dk?cmd=OAuth2Login&st.cmd=OAuth2Login"} {
		req, _ = http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+path, strings.NewReader(big))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if a = do(t, req); a.status != http.StatusRequestEntityTooLarge {
			t.Errorf("POST %s with %d bytes gave %d", path, len(big), a.status)
		}
	}
}

// TestCallLogBoundedInBytes: large calls push the oldest out of the log,
// which stays within MaxCallBytes and keeps the newest call.
func TestCallLogBoundedInBytes(t *testing.T) {
	t.Parallel()
	const maxBytes = 256 << 10
	s := newTestServer(t, Config{Seed: 51, MaxCallBytes: maxBytes})
	for i := range 40 {
		form := url.Values{"method": {"users.getInfo"}, "application_key": {s.app.Key},
			"uids": {strings.Repeat("1,", 16<<10)}, "n": {strings.Repeat("x", i+1)}}
		do(t, mustRequest(t, http.MethodPost, s.URL+"/fb.do", form))
	}
	calls := s.Calls()
	var total int64
	for _, c := range calls {
		total += callSize(c)
	}
	if total > maxBytes || len(calls) == 0 || len(calls) == 40 {
		t.Fatalf("the log holds %d calls in %d bytes, want at most %d bytes", len(calls), total, maxBytes)
	}
	if last := calls[len(calls)-1]; len(last.Params["n"]) != 40 {
		t.Errorf("the newest call is not kept: n has %d bytes", len(last.Params["n"]))
	}
	// One call larger than the bound stays, alone.
	do(t, mustRequest(t, http.MethodPost, s.URL+"/fb.do", url.Values{"method": {"users.getInfo"},
		"application_key": {s.app.Key}, "uids": {strings.Repeat("1,", 200<<10)}}))
	if calls := s.Calls(); len(calls) != 1 {
		t.Errorf("after a call larger than the bound the log holds %d calls", len(calls))
	}
}

// TestServerTimeouts: the HTTP server of Start has read, write and idle
// timeouts, so slow or idle clients cannot hold connections for ever.
func TestServerTimeouts(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 52})
	if s.hs.ReadHeaderTimeout <= 0 || s.hs.ReadTimeout <= 0 || s.hs.WriteTimeout <= 0 || s.hs.IdleTimeout <= 0 || s.hs.MaxHeaderBytes <= 0 {
		t.Errorf("server limits: header %v read %v write %v idle %v max header %d",
			s.hs.ReadHeaderTimeout, s.hs.ReadTimeout, s.hs.WriteTimeout, s.hs.IdleTimeout, s.hs.MaxHeaderBytes)
	}
}
