package engine

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/lang"
	"github.com/okru-run/okru-run/okru"
	"github.com/zclconf/go-cty/cty"
)

// apiServer is a loopback HTTP server speaking ok.ru's fb.do protocol with
// answers computed by handle, so the engine is tested through the real
// okru client. It records every call.
type apiServer struct {
	*httptest.Server
	handle func(method string, form map[string]string) (any, int) // result, or an error code

	mu          sync.Mutex
	calls       []apiCall
	inflight    int
	maxInflight int
	barrier     int           // the first barrier calls wait until barrier calls are in flight
	released    chan struct{} // closed when the barrier is reached
}

type apiCall struct {
	Method string
	Form   map[string]string
}

func newAPIServer(t *testing.T, handle func(method string, form map[string]string) (any, int)) *apiServer {
	t.Helper()
	s := &apiServer{handle: handle, released: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *apiServer) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	form := map[string]string{}
	for k := range r.Form {
		form[k] = r.Form.Get(k)
	}
	method := form["method"]
	s.mu.Lock()
	s.calls = append(s.calls, apiCall{Method: method, Form: form})
	s.inflight++
	s.maxInflight = max(s.maxInflight, s.inflight)
	wait := s.barrier > 0 && len(s.calls) <= s.barrier
	if s.barrier > 0 && s.inflight == s.barrier {
		select {
		case <-s.released:
		default:
			close(s.released)
		}
	}
	s.mu.Unlock()
	if wait {
		select {
		case <-s.released:
		case <-r.Context().Done():
		}
	}
	result, code := s.handle(method, form)
	s.mu.Lock()
	s.inflight--
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	if code != 0 {
		w.Header().Set("Invocation-Error", json.Number(itoa(code)).String())
		_ = json.NewEncoder(w).Encode(map[string]any{"error_code": code, "error_msg": "TEST : injected", "error_data": nil})
		return
	}
	if raw, ok := result.(json.RawMessage); ok {
		_, _ = w.Write(raw)
		return
	}
	_ = json.NewEncoder(w).Encode(result)
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func (s *apiServer) Calls() []apiCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]apiCall(nil), s.calls...)
}

// connector points every session at the server, signing with the
// session's own credentials, without pacing.
func (s *apiServer) connector() Connector {
	return func(_ context.Context, sc SessionConfig) (Caller, error) {
		sc.APIURL = s.URL
		sess, err := NewSession(sc)
		if err != nil {
			return nil, err
		}
		return okru.New(sess, &okru.Options{Rate: okru.Unlimited, Retry: okru.RetryPolicy{MinBackoff: 1, MaxBackoff: 1}}), nil
	}
}

// compile loads and compiles a workflow from source, failing on errors.
func compile(t testing.TB, src string) *Workflow {
	t.Helper()
	w, diags := compileDiags(t, src)
	if diags.HasErrors() {
		t.Fatalf("compile: %s", diags.Error())
	}
	return w
}

func compileDiags(t testing.TB, src string) (*Workflow, hcl.Diagnostics) {
	t.Helper()
	cfg, diags := lang.LoadSource("test.hcl", []byte(src), t.TempDir())
	if diags.HasErrors() {
		return nil, diags
	}
	w, d := Compile(cfg)
	return w, append(diags, d...)
}

// recorder collects events.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) Observe(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) count(ty EventType) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.Type == ty {
			n++
		}
	}
	return n
}

func vars(kv ...any) map[string]cty.Value {
	m := map[string]cty.Value{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].(cty.Value)
	}
	return m
}

const testSession = `
session "main" {
  app_key        = "APPKEY"
  app_secret_key = "S3CRET-app-secret-key"
  access_token   = "T0KEN-access-token-value"
}
`
