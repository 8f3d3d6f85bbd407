package okru_test

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/okru-run/okru-run/okru"
)

func TestCallRequestForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		opts       okru.Options
		call       []okru.CallOption
		wantMethod string
		wantPath   string
		wantParam  bool // method=... sent as a parameter
	}{
		{name: "post by default", wantMethod: "POST", wantPath: "/fb.do", wantParam: true},
		{name: "get from options", opts: okru.Options{UseGET: true}, wantMethod: "GET", wantPath: "/fb.do", wantParam: true},
		{name: "get per call", call: []okru.CallOption{okru.UseGET(true)}, wantMethod: "GET", wantPath: "/fb.do", wantParam: true},
		{name: "post per call overrides options", opts: okru.Options{UseGET: true}, call: []okru.CallOption{okru.UseGET(false)},
			wantMethod: "POST", wantPath: "/fb.do", wantParam: true},
		{name: "path style from options", opts: okru.Options{PathStyle: true}, wantMethod: "POST", wantPath: "/api/users/getInfo"},
		{name: "path style per call with get", call: []okru.CallOption{okru.UsePathStyle(true), okru.UseGET(true)},
			wantMethod: "GET", wantPath: "/api/users/getInfo"},
		{name: "fb.do per call overrides options", opts: okru.Options{PathStyle: true}, call: []okru.CallOption{okru.UsePathStyle(false)},
			wantMethod: "POST", wantPath: "/fb.do", wantParam: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ fakeRequest) { writeResult(w, `[{"uid":"1"}]`) })
			api := newTestAPI(f, &tt.opts)
			raw, err := api.Call(t.Context(), "users.getInfo", okru.Params{"uids": "1"}, tt.call...)
			if err != nil {
				t.Fatal(err)
			}
			if string(raw) != `[{"uid":"1"}]` {
				t.Errorf("result = %s", raw)
			}
			req := f.Requests()[0]
			if req.HTTPMethod != tt.wantMethod || req.Path != tt.wantPath {
				t.Errorf("request = %s %s, want %s %s", req.HTTPMethod, req.Path, tt.wantMethod, tt.wantPath)
			}
			if got := req.Form.Get("method") == "users.getInfo"; got != tt.wantParam {
				t.Errorf("method parameter sent = %v, want %v", got, tt.wantParam)
			}
			if tt.wantMethod == "POST" && req.ContentType != "application/x-www-form-urlencoded" {
				t.Errorf("content type = %q", req.ContentType)
			}
			if tt.wantMethod == "POST" && req.RawQuery != "" {
				t.Errorf("POST leaks parameters into the URL: %q", req.RawQuery)
			}
			for k, want := range map[string]string{"application_key": appKey, "access_token": accessToken, "format": "json", "uids": "1"} {
				if got := req.Form.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if !signatureOK(req.Form, okru.ServerSecret(accessToken, appSecretKey)) {
				t.Errorf("signature does not verify: %v", req.Form)
			}
		})
	}
}

// TestParamEncoding checks the wire rules: zero values are sent and signed,
// lists are joined with commas, attachments are compact JSON, nil is left
// out, and values are signed as sent (raw, before URL encoding).
func TestParamEncoding(t *testing.T) {
	t.Parallel()
	type attachment struct {
		Media []map[string]string `json:"media"`
	}
	params := okru.Params{
		"zero":       0,
		"no":         false,
		"yes":        true,
		"empty":      "",
		"ids":        []string{"1", "2", "3"},
		"nums":       []int64{10, 20},
		"ratio":      0.25,
		"attachment": attachment{Media: []map[string]string{{"type": "text", "text": "hi & bye = ok"}}},
		"raw":        json.RawMessage("{ \"a\" : [1, 2] }"),
		"objects":    []map[string]int{{"id": 1}, {"id": 2}},
		"unicode":    "привет мир",
		"left_out":   nil,
	}
	want := map[string]string{
		"zero": "0", "no": "false", "yes": "true", "empty": "", "ids": "1,2,3", "nums": "10,20", "ratio": "0.25",
		"attachment": `{"media":[{"text":"hi & bye = ok","type":"text"}]}`,
		"raw":        `{"a":[1,2]}`,
		"objects":    `[{"id":1},{"id":2}]`,
		"unicode":    "привет мир",
	}
	for _, get := range []bool{false, true} {
		t.Run(map[bool]string{false: "post", true: "get"}[get], func(t *testing.T) {
			t.Parallel()
			f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ fakeRequest) { writeResult(w, `true`) })
			api := newTestAPI(f, nil)
			if _, err := api.Call(t.Context(), "mediatopic.post", params, okru.UseGET(get)); err != nil {
				t.Fatal(err)
			}
			form := f.Requests()[0].Form
			for k, v := range want {
				if got, ok := form[k]; !ok || got[0] != v {
					t.Errorf("%s = %q (sent %v), want %q", k, got, ok, v)
				}
			}
			if _, ok := form["left_out"]; ok {
				t.Error("a nil parameter was sent")
			}
			if !signatureOK(form, okru.ServerSecret(accessToken, appSecretKey)) {
				t.Error("signature does not cover the values as sent")
			}
		})
	}
}

func TestCallAnswers(t *testing.T) {
	t.Parallel()
	type answer struct {
		status int
		ctype  string
		header string // Invocation-Error
		body   string
	}
	tests := []struct {
		name     string
		answer   answer
		want     string    // result on success
		wantCode okru.Code // *okru.Error code
		decode   bool      // *okru.DecodeError
		inText   string
	}{
		{name: "object", answer: answer{200, "application/json;charset=utf-8", "", `{"uid":"1"}`}, want: `{"uid":"1"}`},
		{name: "array of ids", answer: answer{200, "application/json;charset=utf-8", "", `["1","2"]`}, want: `["1","2"]`},
		{name: "bare string", answer: answer{200, "application/json;charset=utf-8", "", `"ok"`}, want: `"ok"`},
		{name: "bare number", answer: answer{200, "application/json;charset=utf-8", "", `42`}, want: `42`},
		{name: "bare boolean", answer: answer{200, "application/json; charset=UTF-8", "", `true`}, want: `true`},
		{name: "nested error_code is a result", answer: answer{200, "application/json;charset=utf-8", "", `{"items":[{"error_code":5}]}`},
			want: `{"items":[{"error_code":5}]}`},
		{name: "envelope and header", answer: answer{200, "application/json;charset=utf-8", "102",
			`{"error_code":102,"error_msg":"PARAM_SESSION_EXPIRED : Session expired","error_data":null}`},
			wantCode: okru.CodeParamSessionExpired, inText: "call users.getInfo: PARAM_SESSION_EXPIRED (102): Session expired"},
		{name: "envelope without header", answer: answer{200, "application/json;charset=utf-8", "",
			`{"error_code":100,"error_msg":"PARAM : uids is empty"}`},
			wantCode: okru.CodeParam, inText: "PARAM (100): uids is empty"},
		{name: "header alone with a non-JSON body", answer: answer{200, "text/plain", "104", `Bad signature`},
			wantCode: okru.CodeParamSignature, inText: "PARAM_SIGNATURE (104)"},
		{name: "header alone with an empty body", answer: answer{200, "", "453", ``}, wantCode: okru.CodeSessionRequired},
		{name: "non-numeric header with a result body", answer: answer{200, "application/json;charset=utf-8", "PARAM_SESSION_EXPIRED", `{"uid":"1"}`},
			decode: true, inText: `the Invocation-Error header "PARAM_SESSION_EXPIRED" is not an error code`},
		{name: "non-numeric header with a non-numeric error_code", answer: answer{200, "application/json;charset=utf-8", "oops", `{"error_code":"7"}`},
			decode: true, inText: `header "oops"`},
		{name: "http 500 with html", answer: answer{500, "text/html", "", `<html><body>Internal error</body></html>`},
			decode: true, inText: "HTTP 500"},
		{name: "html with status 200", answer: answer{200, "text/html", "", `<html>maintenance</html>`},
			decode: true, inText: `content type "text/html"`},
		{name: "json content type, broken body", answer: answer{200, "application/json;charset=utf-8", "", `{"uid":`},
			decode: true, inText: "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ fakeRequest) {
				if tt.answer.ctype != "" {
					w.Header().Set("Content-Type", tt.answer.ctype)
				}
				if tt.answer.header != "" {
					w.Header().Set("Invocation-Error", tt.answer.header)
				}
				w.WriteHeader(tt.answer.status)
				w.Write([]byte(tt.answer.body))
			})
			api := newTestAPI(f, &okru.Options{Retry: okru.RetryPolicy{MaxAttempts: 1}})
			raw, err := api.Call(t.Context(), "users.getInfo", okru.Params{"uids": "1"})
			switch {
			case tt.want != "":
				if err != nil || string(raw) != tt.want {
					t.Fatalf("Call = %s, %v; want %s", raw, err, tt.want)
				}
				return
			case tt.wantCode != 0:
				var apiErr *okru.Error
				if !errors.As(err, &apiErr) || apiErr.Code != tt.wantCode || apiErr.Method != "users.getInfo" {
					t.Fatalf("err = %v, want *okru.Error with code %d", err, tt.wantCode)
				}
				if !errors.Is(err, tt.wantCode) {
					t.Errorf("errors.Is(err, %v) = false", tt.wantCode)
				}
			case tt.decode:
				var de *okru.DecodeError
				if !errors.As(err, &de) {
					t.Fatalf("err = %v (%T), want *okru.DecodeError", err, err)
				}
				if de.Status != tt.answer.status || de.Excerpt == "" {
					t.Errorf("DecodeError = %+v", de)
				}
			}
			if !strings.Contains(err.Error(), tt.inText) {
				t.Errorf("error %q does not contain %q", err, tt.inText)
			}
		})
	}
}

func TestUnknownMethodSuggestion(t *testing.T) {
	t.Parallel()
	f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ fakeRequest) {
		writeAPIError(w, okru.CodeMethod, "Method users.getInfoo not found")
	})
	api := newTestAPI(f, nil)
	_, err := api.Call(t.Context(), "users.getInfoo", nil)
	if !errors.Is(err, okru.CodeMethod) {
		t.Fatalf("err = %v, want METHOD (3)", err)
	}
	if !strings.Contains(err.Error(), "did you mean users.getInfo") {
		t.Errorf("error %q has no suggestion", err)
	}
	if f.Count() != 1 {
		t.Errorf("an unknown method was sent %d times, want once: it is not in the catalog but may exist", f.Count())
	}
}

func TestSessionRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		session func(url string) *okru.Session
		method  string
		wantErr error
		// what the server must see when the call is sent
		wantToken bool
		secret    string
	}{
		{name: "required method without a user", method: "users.getCurrentUser", wantErr: okru.ErrSessionRequired,
			session: func(u string) *okru.Session { return okru.AppSession(appKey, appSecretKey, okru.WithAPIURL(u)) }},
		{name: "prohibited method with a user", method: "notifications.sendSimple", wantErr: okru.ErrSessionProhibited,
			session: func(u string) *okru.Session {
				return okru.ServerSession(appKey, appSecretKey, accessToken, okru.WithAPIURL(u))
			}},
		{name: "prohibited method with an app session", method: "notifications.sendSimple", secret: appSecretKey,
			session: func(u string) *okru.Session { return okru.AppSession(appKey, appSecretKey, okru.WithAPIURL(u)) }},
		{name: "optional method with an app session", method: "users.getInfo", secret: appSecretKey,
			session: func(u string) *okru.Session { return okru.AppSession(appKey, appSecretKey, okru.WithAPIURL(u)) }},
		{name: "required method with a client session", method: "users.getCurrentUser", wantToken: true, secret: sessionSecretKey,
			session: func(u string) *okru.Session {
				return okru.ClientSession(appKey, accessToken, sessionSecretKey, okru.WithAPIURL(u))
			}},
		{name: "unknown method with an app session is sent", method: "custom.doThing", secret: appSecretKey,
			session: func(u string) *okru.Session { return okru.AppSession(appKey, appSecretKey, okru.WithAPIURL(u)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ fakeRequest) { writeResult(w, `{}`) })
			api := okru.New(tt.session(f.URL), &okru.Options{Rate: okru.Unlimited})
			_, err := api.Call(t.Context(), tt.method, okru.Params{"uid": "1"})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), "call "+tt.method) {
					t.Errorf("error %q does not name the method", err)
				}
				if f.Count() != 0 {
					t.Errorf("the call reached the server")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			req := f.Requests()[0]
			if got := req.Form.Has("access_token"); got != tt.wantToken {
				t.Errorf("access_token sent = %v, want %v", got, tt.wantToken)
			}
			if !signatureOK(req.Form, tt.secret) {
				t.Errorf("not signed with the expected secret")
			}
		})
	}
	// The rule errors also match the code the server would have answered.
	if !errors.Is(okru.ErrSessionRequired, okru.CodeSessionRequired) || !errors.Is(okru.ErrSessionProhibited, okru.CodeNotSessionMethod) {
		t.Error("rule errors do not match their codes")
	}
}

func TestTokenSessionCircuits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                   string
		secret, token, session string
		want                   okru.Circuit
		wantErr                bool
		signWith               string
	}{
		{name: "server when app secret and token", secret: appSecretKey, token: accessToken, session: sessionSecretKey,
			want: okru.CircuitServer, signWith: okru.ServerSecret(accessToken, appSecretKey)},
		{name: "client when session secret and token", token: accessToken, session: sessionSecretKey,
			want: okru.CircuitClient, signWith: sessionSecretKey},
		{name: "session secret without a token", session: sessionSecretKey, wantErr: true},
		{name: "app secret without a token", secret: appSecretKey, wantErr: true},
		{name: "nothing", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ fakeRequest) { writeResult(w, `{}`) })
			s, err := okru.TokenSession(appKey, tt.secret, tt.token, tt.session, okru.WithAPIURL(f.URL))
			if tt.wantErr {
				if !errors.Is(err, okru.ErrNoCircuit) {
					t.Fatalf("err = %v, want ErrNoCircuit", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c, err := s.Circuit(); err != nil || c != tt.want {
				t.Errorf("Circuit() = %v, %v; want %v", c, err, tt.want)
			}
			if _, err := okru.New(s, &okru.Options{Rate: okru.Unlimited}).Call(t.Context(), "users.getCurrentUser", nil); err != nil {
				t.Fatal(err)
			}
			if form := f.Requests()[0].Form; !signatureOK(form, tt.signWith) || form.Get("access_token") != tt.token {
				t.Errorf("request not signed for the %v circuit: %v", tt.want, form)
			}
		})
	}
}

func TestCallInto(t *testing.T) {
	t.Parallel()
	type user struct {
		UID  string `json:"uid"`
		Name string `json:"name"`
	}
	tests := []struct {
		name    string
		result  string
		out     any // pointer to a zero value
		want    any
		wantErr bool
	}{
		{name: "struct", result: `{"uid":"7","name":"Ann"}`, out: new(user), want: &user{UID: "7", Name: "Ann"}},
		{name: "map", result: `{"uid":"7"}`, out: new(map[string]any), want: &map[string]any{"uid": "7"}},
		{name: "slice of ids", result: `["1","2"]`, out: new([]string), want: &[]string{"1", "2"}},
		{name: "string", result: `"done"`, out: new(string), want: ptr("done")},
		{name: "number", result: `12.5`, out: new(float64), want: ptr(12.5)},
		{name: "bool", result: `true`, out: new(bool), want: ptr(true)},
		{name: "array into struct", result: `["1"]`, out: new(user), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ fakeRequest) { writeResult(w, tt.result) })
			err := newTestAPI(f, nil).CallInto(t.Context(), "friends.get", nil, tt.out)
			if tt.wantErr {
				var de *okru.DecodeError
				if !errors.As(err, &de) || !strings.Contains(err.Error(), "call friends.get") {
					t.Fatalf("err = %v, want a *DecodeError naming the method", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(tt.out, tt.want) {
				t.Errorf("decoded %#v, want %#v", tt.out, tt.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestGeneratedWrapper checks that a generated group method goes through
// Call with its method name.
func TestGeneratedWrapper(t *testing.T) {
	t.Parallel()
	f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ fakeRequest) { writeResult(w, `["5"]`) })
	raw, err := newTestAPI(f, nil).Friends().Get(t.Context(), okru.Params{"uid": "1"})
	if err != nil || string(raw) != `["5"]` {
		t.Fatalf("Friends().Get = %s, %v", raw, err)
	}
	if got := f.Requests()[0].Form.Get("method"); got != "friends.get" {
		t.Errorf("method = %q", got)
	}
}

// TestConnectionReuse: parallel calls over the default client share a
// pool of kept-alive connections instead of dialling for every call.
func TestConnectionReuse(t *testing.T) {
	t.Parallel()
	var conns atomic.Int32
	countConns := func(srv *http.Server) {
		srv.ConnState = func(_ net.Conn, state http.ConnState) {
			if state == http.StateNew {
				conns.Add(1)
			}
		}
	}
	f := newFakeServerWith(t, countConns, func(w http.ResponseWriter, _ *http.Request, _ fakeRequest) { writeResult(w, `{}`) })
	api := newTestAPI(f, nil)
	// A few more dials than callers happen when a call dials while another
	// frees a connection; without reuse there would be one per call.
	const workers, calls = 16, 20
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range calls {
				if _, err := api.Call(t.Context(), "users.getInfo", nil); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if f.Count() != workers*calls {
		t.Fatalf("server saw %d calls", f.Count())
	}
	if got := conns.Load(); got > 2*workers {
		t.Errorf("%d connections for %d parallel callers: connections are not reused", got, workers)
	}
}

// countingTransport counts the requests of a caller's own HTTP client.
type countingTransport struct{ n atomic.Int32 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func TestHTTPClientOption(t *testing.T) {
	t.Parallel()
	f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ fakeRequest) { writeResult(w, `{}`) })
	ct := &countingTransport{}
	api := newTestAPI(f, &okru.Options{HTTPClient: &http.Client{Transport: ct}})
	if _, err := api.Call(t.Context(), "users.getInfo", nil); err != nil {
		t.Fatal(err)
	}
	if ct.n.Load() != 1 {
		t.Errorf("the given client sent %d requests, want 1", ct.n.Load())
	}
}

func TestBadMethodNames(t *testing.T) {
	t.Parallel()
	f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ fakeRequest) { writeResult(w, `{}`) })
	api := newTestAPI(f, nil)
	for _, name := range []string{"", "users", ".getInfo", "users.", "users.get.info", "users/getInfo", "users.getInfo?x=1", "users.get Info"} {
		if _, err := api.Call(t.Context(), name, nil); err == nil || !strings.Contains(err.Error(), "not a method name") {
			t.Errorf("Call(%q) = %v, want a method name error", name, err)
		}
	}
	if f.Count() != 0 {
		t.Errorf("%d bad names were sent", f.Count())
	}
}
