package okrutest

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// signIndependently implements DESIGN.md's signature rules by hand, apart
// from okru.Sign, so that the sandbox is checked against the rules and not
// against its own signer: every parameter but sig, access_token and resig,
// sorted by key, key=value with nothing between, the secret appended, md5 in
// lower-case hex.
func signIndependently(params map[string]string, secret string) string {
	var keys []string
	for k := range params {
		if k != "sig" && k != "access_token" && k != "resig" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	h := md5.New()
	for _, k := range keys {
		io.WriteString(h, k+"="+params[k])
	}
	io.WriteString(h, secret)
	return hex.EncodeToString(h.Sum(nil))
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Ways of sending a call.
const (
	postFBDo = "POST fb.do"
	getFBDo  = "GET fb.do"
	postPath = "POST /api/"
	getPath  = "GET /api/"
)

// caller sends signed calls to a sandbox with plain net/http.
type caller struct {
	url       string
	app       App
	circuit   string // circuitServer, circuitClient or circuitApp
	token     string
	ssk       string // session secret key
	form      string // postFBDo by default
	secretFor func(params map[string]string) string
}

// demoCaller calls as the demo user over the given circuit.
func demoCaller(s *Server, circuit string) caller {
	d := s.DemoUser()
	return caller{url: s.URL, app: s.App(), circuit: circuit, token: d.AccessToken, ssk: d.SessionSecretKey}
}

func tokenCaller(s *Server, t Token, circuit string) caller {
	return caller{url: s.URL, app: s.App(), circuit: circuit, token: t.AccessToken, ssk: t.SessionSecretKey}
}

func appCaller(s *Server) caller {
	return caller{url: s.URL, app: s.App(), circuit: circuitApp}
}

// prepare returns the final parameters of a call, signed.
func (c caller) prepare(method string, params map[string]string) map[string]string {
	p := map[string]string{"application_key": c.app.Key, "format": "json"}
	for k, v := range params {
		p[k] = v
	}
	if c.form == "" || c.form == postFBDo || c.form == getFBDo {
		p["method"] = method
	}
	var secret string
	switch c.circuit {
	case circuitServer:
		p["access_token"] = c.token
		secret = md5Hex(c.token + c.app.SecretKey)
	case circuitClient:
		p["access_token"] = c.token
		secret = c.ssk
	default:
		secret = c.app.SecretKey
	}
	if c.secretFor != nil {
		secret = c.secretFor(p)
	}
	if _, preset := params["sig"]; !preset {
		p["sig"] = signIndependently(p, secret)
	}
	return p
}

// answer is a raw HTTP answer of the sandbox.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// errorCode returns error_code of an error envelope, 0 for a result.
func (a answer) errorCode() int {
	var env struct {
		Code int `json:"error_code"`
	}
	if json.Unmarshal(a.body, &env) == nil {
		return env.Code
	}
	return 0
}

func (a answer) errorMsg() string {
	var env struct {
		Msg string `json:"error_msg"`
	}
	_ = json.Unmarshal(a.body, &env)
	return env.Msg
}

// decode unmarshals a result, failing the test on an error answer.
func (a answer) decode(t testing.TB, v any) {
	t.Helper()
	if a.header.Get("Invocation-Error") != "" {
		t.Fatalf("want a result, got error %s", a.body)
	}
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("decode %s: %v", a.body, err)
	}
}

func (c caller) call(t testing.TB, method string, params map[string]string) answer {
	t.Helper()
	return c.send(t, method, c.prepare(method, params))
}

// send sends params exactly as given.
func (c caller) send(t testing.TB, method string, params map[string]string) answer {
	t.Helper()
	return c.sendEncoded(t, method, encodeForm(params))
}

// sendEncoded sends an encoded query or form body exactly as given.
func (c caller) sendEncoded(t testing.TB, method, encoded string) answer {
	t.Helper()
	endpoint := c.url + "/fb.do"
	if c.form == postPath || c.form == getPath {
		endpoint = c.url + "/api/" + strings.Replace(method, ".", "/", 1)
	}
	var req *http.Request
	var err error
	switch c.form {
	case getFBDo, getPath:
		req, err = http.NewRequestWithContext(t.Context(), http.MethodGet, endpoint+"?"+encoded, nil)
	default:
		req, err = http.NewRequestWithContext(t.Context(), http.MethodPost, endpoint, strings.NewReader(encoded))
		if req != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

func do(t testing.TB, req *http.Request) answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: body}
}

// result calls and decodes a successful answer into a value of type T.
func result[T any](t testing.TB, c caller, method string, params map[string]string) T {
	t.Helper()
	var v T
	c.call(t, method, params).decode(t, &v)
	return v
}

// fakeClock is a clock that moves only when told, for expiry and flood
// tests without sleeping.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newTestServer starts a sandbox closed at the end of the test.
func newTestServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	s := NewServer(cfg)
	t.Cleanup(s.Close)
	return s
}

func encodeForm(params map[string]string) string {
	form := url.Values{}
	for k, v := range params {
		form.Set(k, v)
	}
	return form.Encode()
}
