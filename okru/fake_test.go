package okru_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/okru-run/okru-run/okru"
)

// Credentials of the fake servers below; long enough to be redacted.
const (
	appKey           = "CBAFAKEAPPKEY"
	appSecretKey     = "app-secret-0123456789abcdef"
	accessToken      = "tkn-0123456789abcdefghijklmn"
	sessionSecretKey = "ssk-fedcba9876543210"
)

// fakeRequest is what a fake server saw of one request.
type fakeRequest struct {
	HTTPMethod  string
	Path        string
	ContentType string
	Form        url.Values // query and body together
	RawBody     string
	RawQuery    string
}

// fakeServer is a small ok.ru stand-in for the edge cases the sandbox does
// not produce on demand: each test gives the answer, the server records
// what it was asked.
type fakeServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []fakeRequest
}

// newFakeServer serves answer for every request, after recording it.
func newFakeServer(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, req fakeRequest)) *fakeServer {
	t.Helper()
	return newFakeServerWith(t, nil, answer)
}

// newFakeServerWith is newFakeServer with configure run on the
// http.Server before it starts.
func newFakeServerWith(t *testing.T, configure func(*http.Server), answer func(w http.ResponseWriter, r *http.Request, req fakeRequest)) *fakeServer {
	t.Helper()
	f := &fakeServer{}
	f.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rawBody := ""
		if r.Method == http.MethodPost {
			b, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			rawBody = string(b)
		}
		form, err := url.ParseQuery(rawBody)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for k, v := range r.URL.Query() {
			form[k] = append(form[k], v...)
		}
		req := fakeRequest{HTTPMethod: r.Method, Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"),
			Form: form, RawBody: rawBody, RawQuery: r.URL.RawQuery}
		f.mu.Lock()
		f.requests = append(f.requests, req)
		f.mu.Unlock()
		answer(w, r, req)
	}))
	if configure != nil {
		configure(f.Config)
	}
	f.Start()
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServer) Requests() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeRequest(nil), f.requests...)
}

func (f *fakeServer) Count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

// writeResult answers with a JSON result the way ok.ru does.
func writeResult(w http.ResponseWriter, result string) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	fmt.Fprint(w, result)
}

// writeAPIError answers with ok.ru's error envelope and header.
func writeAPIError(w http.ResponseWriter, code okru.Code, msg string) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.Header().Set("Invocation-Error", strconv.Itoa(int(code)))
	b, _ := json.Marshal(map[string]any{"error_code": int(code), "error_msg": code.Name() + " : " + msg, "error_data": nil})
	w.Write(b)
}

// signatureOK checks the request's sig against secret, as ok.ru does.
func signatureOK(form url.Values, secret string) bool {
	flat := make(map[string]string, len(form))
	for k, v := range form {
		flat[k] = v[0]
	}
	return form.Get("sig") != "" && okru.Sign(flat, secret) == form.Get("sig")
}

// fastRetry keeps test retries quick; full jitter makes the waits random
// but each is at most a millisecond.
var fastRetry = okru.RetryPolicy{MinBackoff: time.Microsecond, MaxBackoff: time.Millisecond}

// newTestAPI returns a server-server API on f without pacing.
func newTestAPI(f *fakeServer, opts *okru.Options) *okru.API {
	s := okru.ServerSession(appKey, appSecretKey, accessToken, okru.WithAPIURL(f.URL))
	if opts == nil {
		opts = &okru.Options{}
	}
	if opts.Rate == 0 {
		opts.Rate = okru.Unlimited
	}
	if opts.Retry == (okru.RetryPolicy{}) {
		opts.Retry = fastRetry
	}
	return okru.New(s, opts)
}

// closedURL returns the URL of a loopback port that nobody listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String() + "/"
	l.Close()
	return u
}
