package okru

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure an API. The zero value is useful: POST to fb.do over a
// shared, tuned HTTP client, up to 4 attempts with backoff for transient
// failures, and pacing at DefaultRate calls per second.
type Options struct {
	// HTTPClient sends the requests. nil means a client shared by all APIs
	// whose transport keeps up to 64 idle connections per host, so parallel
	// calls reuse connections instead of opening new ones. Whatever its
	// CheckRedirect, no redirect is followed (see RedirectError).
	HTTPClient *http.Client

	// UseGET sends the parameters in the query string. Prefer POST (the
	// default): tokens in URLs end up in proxy and server logs.
	UseGET bool

	// PathStyle calls /api/<group>/<method> instead of fb.do?method=.
	PathStyle bool

	// Retry says how often and how patiently a failed call is repeated.
	Retry RetryPolicy

	// Rate is the most calls per second the API sends, and Burst how many
	// may go at once after a pause. Zero means DefaultRate and DefaultBurst;
	// Unlimited (or any negative Rate) turns pacing off. When the server
	// answers a throttle code the API halves its rate, down to MinRate, and
	// climbs back to Rate as calls succeed.
	Rate  float64
	Burst int

	// MinRate is the floor of the adaptive rate. Zero means Rate/10.
	MinRate float64

	// AttemptTimeout bounds each attempt of a call: sending the request and
	// reading the whole answer. An answer that stalls fails the attempt with
	// a *TransportError, retried like a broken connection. Zero means
	// DefaultAttemptTimeout; negative, no bound but ctx's. Photo uploads
	// are bounded only when this is set: their time grows with the files.
	AttemptTimeout time.Duration

	// Logger receives a line for every retry and token refresh. nil is
	// silent. Lines never hold secrets.
	Logger *slog.Logger
}

// API calls ok.ru methods for one Session. It is safe for concurrent use
// and should be shared: its pacing only sees the calls that go through it.
type API struct {
	s      *Session
	opts   Options
	hc     *http.Client
	retry  RetryPolicy
	pacer  *pacer // nil when pacing is off
	logger *slog.Logger
	fbDo   string // the session's API URL + "fb.do"
}

// New returns an API calling with s. opts may be nil.
func New(s *Session, opts *Options) *API {
	a := &API{s: s}
	if opts != nil {
		a.opts = *opts
	}
	a.hc = a.opts.HTTPClient
	if a.hc == nil {
		a.hc = defaultClient()
	}
	// Calls, token.do and uploads follow no redirect (see RedirectError).
	a.hc = refuseRedirects(a.hc)
	a.retry = a.opts.Retry.withDefaults()
	a.pacer = newPacer(a.opts.Rate, a.opts.Burst, a.opts.MinRate)
	a.logger = a.opts.Logger
	a.fbDo = s.apiURL + "fb.do"
	return a
}

// Session returns the session the API calls with.
func (a *API) Session() *Session { return a.s }

// Rate returns the current pace in calls per second, which drops after
// throttle answers and recovers as calls succeed. It is Unlimited when
// pacing is off.
func (a *API) Rate() float64 {
	if a.pacer == nil {
		return Unlimited
	}
	return a.pacer.current()
}

// PacedCalls counts the calls so far that waited for the pace (Rate)
// before they were sent; 0 when pacing is off. A caller that sees it grow
// with nearly every call knows its pace bounds its speed.
func (a *API) PacedCalls() uint64 {
	if a.pacer == nil {
		return 0
	}
	return a.pacer.waited.Load()
}

// defaultClient is shared by every API created without an HTTPClient, so
// that all of them draw from one pool of connections.
var defaultClient = sync.OnceValue(func() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 64
	t.ResponseHeaderTimeout = 2 * time.Minute
	return &http.Client{Transport: t}
})

// CallOption changes one call.
type CallOption func(*callConfig)

type callConfig struct {
	get        bool
	path       bool
	allowRetry bool
	retry      RetryPolicy
	onRetry    func(RetryInfo)
	// attemptTimeout bounds each attempt; <= 0 means none.
	attemptTimeout time.Duration
}

// UseGET sends this call with GET (true) or POST (false), whatever the
// API's Options say.
func UseGET(get bool) CallOption { return func(c *callConfig) { c.get = get } }

// UsePathStyle sends this call to /api/<group>/<method> (true) or to
// fb.do?method= (false), whatever the API's Options say.
func UsePathStyle(path bool) CallOption { return func(c *callConfig) { c.path = path } }

// AllowRetry lets a call that changes something be repeated after an
// answer or a failure that came after its request may have reached the
// server. Use it for writes that are idempotent; by default only read-only
// methods (IsReadOnly) are repeated then.
func AllowRetry() CallOption { return func(c *callConfig) { c.allowRetry = true } }

// WithRetry replaces the API's retry policy for this call; zero fields
// take the defaults.
func WithRetry(p RetryPolicy) CallOption {
	return func(c *callConfig) { c.retry = p.withDefaults() }
}

// OnRetry calls f before each retry of this call is waited for, with the
// failed attempt and the wait; f must not block.
func OnRetry(f func(RetryInfo)) CallOption { return func(c *callConfig) { c.onRetry = f } }

func (a *API) config(opts []CallOption) callConfig {
	cfg := callConfig{get: a.opts.UseGET, path: a.opts.PathStyle, retry: a.retry, attemptTimeout: a.opts.AttemptTimeout}
	if cfg.attemptTimeout == 0 {
		cfg.attemptTimeout = DefaultAttemptTimeout
	}
	if len(opts) > 0 {
		// Apply to a copy on the heap so that cfg itself does not escape
		// on the common path without options.
		c := new(callConfig)
		*c = cfg
		for _, o := range opts {
			o(c)
		}
		cfg = *c
	}
	return cfg
}

// Call calls method with params and returns the raw JSON result, which may
// be an object, an array, a string, a number or a boolean.
//
// Before sending, it checks the catalog's session rule: a method that
// needs a user session fails with ErrSessionRequired on a session without
// an access token, one that forbids it fails with ErrSessionProhibited on a
// user session (call those with an AppSession). Methods missing from the
// catalog are sent as they are.
//
// Failures are *Error (the server's answer), *TransportError or
// *DecodeError. Transient codes, throttle codes and network failures are
// retried with backoff as the RetryPolicy says, but only when repeating is
// safe: the request never reached the server, the method is read-only, or
// the call was made with AllowRetry. An expired session (102) on a session
// with a refresher is refreshed once and the call repeated once.
func (a *API) Call(ctx context.Context, method string, params Params, opts ...CallOption) (json.RawMessage, error) {
	if !validMethodName(method) {
		return nil, fmt.Errorf("call %q: not a method name: names are group.method, such as users.getInfo", method)
	}
	cfg := a.config(opts)
	asApp, err := a.checkSessionRule(method)
	if err != nil {
		return nil, fmt.Errorf("call %s: %w", method, err)
	}
	wire, err := params.encode()
	if err != nil {
		return nil, fmt.Errorf("call %s: %w", method, err)
	}
	wire["format"] = "json"
	if !cfg.path {
		wire["method"] = method
	}
	return a.run(ctx, method, &cfg, func(ctx context.Context) (json.RawMessage, uint64, error) {
		gen, err := a.s.sign(wire, asApp)
		if err != nil {
			return nil, gen, fmt.Errorf("call %s: %w", method, err)
		}
		result, err := a.send(ctx, method, wire, &cfg)
		return result, gen, err
	})
}

// attemptFunc makes one attempt of a call. It returns the generation of
// the token it signed with, so that an expired token is refreshed once
// however many calls saw it expire.
type attemptFunc func(ctx context.Context) (result json.RawMessage, tokenGen uint64, err error)

// run makes attempts of one call under the API's pacing, the call's retry
// policy and the session's token refresh. Every request to the API goes
// through it, so that calls, batches and uploads share one retry policy.
func (a *API) run(ctx context.Context, method string, cfg *callConfig, attempt attemptFunc) (json.RawMessage, error) {
	refreshed := false
	for n := 1; ; n++ {
		if err := a.pacer.wait(ctx); err != nil {
			return nil, &TransportError{Method: method, Err: err}
		}
		epoch := a.pacer.epochNow()
		result, gen, err := cfg.attempt(ctx, attempt)
		if err == nil {
			a.pacer.success()
			return result, nil
		}
		var apiErr *Error
		if errors.As(err, &apiErr) && apiErr.Code == CodeParamSessionExpired && !refreshed && a.s.CanRefresh() {
			// The server refused the expired token before running the
			// call, so repeating it is safe even for a write.
			refreshed = true
			if rerr := a.s.refreshAfter(ctx, gen); rerr != nil {
				return nil, fmt.Errorf("%w (refreshing the token failed: %w)", err, redactError(rerr, a.s.secrets()))
			}
			a.log(ctx, slog.LevelInfo, "okru: token refreshed", method, n, 0, err)
			n-- // the refresh does not use up an attempt
			continue
		}
		if isThrottle(err) {
			a.pacer.slowDown(epoch)
		}
		if ctx.Err() != nil || !cfg.retryable(method, err) {
			return nil, err
		}
		if n >= cfg.retry.MaxAttempts {
			if cfg.retry.MaxAttempts > 1 {
				return nil, fmt.Errorf("%w (gave up after %d attempts)", err, n)
			}
			return nil, err
		}
		wait := cfg.retry.backoff(n)
		if cfg.onRetry != nil {
			cfg.onRetry(RetryInfo{Method: method, Attempt: n, Err: err, Wait: wait})
		}
		a.log(ctx, slog.LevelWarn, "okru: retrying call", method, n, wait, err)
		if werr := sleep(ctx, wait); werr != nil {
			return nil, fmt.Errorf("%w (retry stopped: %w)", err, werr)
		}
	}
}

// validMethodName reports whether name has the form group.method, so that
// a name that would change the URL of a path-style call is never sent.
func validMethodName(name string) bool {
	group, verb, ok := strings.Cut(name, ".")
	return ok && group != "" && verb != "" && !strings.Contains(verb, ".") && !strings.ContainsAny(name, "/?#&= \t\n")
}

// checkSessionRule applies the catalog's session rule of method to the
// session before anything is sent. asApp tells the call to go without the
// user's token, signed with the app secret key.
func (a *API) checkSessionRule(method string) (asApp bool, err error) {
	app := a.s.circuit == CircuitApp
	m, ok := LookupMethod(method)
	if !ok {
		return app, nil
	}
	// Whether the application is external (so that methods marked
	// ExternalNeedsSession need a session too) is known to ok.ru, not to the
	// client: it checks the catalog's own rule and leaves that one to the
	// server's 453.
	switch m.SessionFor(false) {
	case SessionRequired:
		if app || !a.s.HasUser() {
			return false, ErrSessionRequired
		}
	case SessionProhibited:
		if !app {
			return false, ErrSessionProhibited
		}
	}
	return app, nil
}

// send makes one attempt: it encodes wire, posts it and reads the answer.
func (a *API) send(ctx context.Context, method string, wire map[string]string, cfg *callConfig) (json.RawMessage, error) {
	endpoint := a.fbDo
	if cfg.path {
		group, verb, _ := strings.Cut(method, ".")
		endpoint = a.s.apiURL + "api/" + url.PathEscape(group) + "/" + url.PathEscape(verb)
	}
	form := encodeForm(wire)
	var req *http.Request
	var err error
	if cfg.get {
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"?"+form, nil)
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("call %s: %w", method, a.redactErr(err, wire))
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, a.transportError(method, err, wire)
	}
	body, err := readBody(method, resp)
	if de, ok := errors.AsType[*DecodeError](err); ok {
		return nil, de
	}
	if err != nil {
		return nil, &TransportError{Method: method, Sent: true, Err: a.redactErr(err, wire)}
	}
	return a.decode(method, resp, body, wire)
}

// encodeForm writes wire as an application/x-www-form-urlencoded string.
// Unlike url.Values.Encode it neither copies nor sorts: the order of
// parameters does not matter to ok.ru, whose signature sorts them itself.
// It writes in a pooled buffer, so that the form is its one allocation.
func encodeForm(wire map[string]string) string {
	bp := formBuf.Get().(*[]byte)
	b := (*bp)[:0]
	for k, v := range wire {
		if len(b) > 0 {
			b = append(b, '&')
		}
		b = appendQueryEscaped(b, k)
		b = append(b, '=')
		b = appendQueryEscaped(b, v)
	}
	form := string(b)
	if cap(b) <= 64<<10 {
		*bp = b
		formBuf.Put(bp)
	}
	return form
}

var formBuf = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// appendQueryEscaped appends s escaped as url.QueryEscape escapes it: runs
// of bytes that need no escape are copied as they are.
func appendQueryEscaped(b []byte, s string) []byte {
	const upperHex = "0123456789ABCDEF"
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if queryUnescaped[c] {
			continue
		}
		b = append(b, s[start:i]...)
		if c == ' ' {
			b = append(b, '+')
		} else {
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		}
		start = i + 1
	}
	return append(b, s[start:]...)
}

// queryUnescaped marks the bytes url.QueryEscape leaves as they are.
var queryUnescaped = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
	}
	return t
}()

// maxBody is the largest answer readBody accepts. A variable, so tests
// can lower it.
var maxBody int64 = 64 << 20

// readBody reads the whole body and closes it, so the connection can be
// reused. An answer larger than maxBody, whether its Content-Length says
// so or it streams without one, is a *DecodeError.
func readBody(method string, resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	tooLarge := func() error {
		return &DecodeError{Method: method, Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"),
			Err: fmt.Errorf("the answer is larger than %d bytes", maxBody)}
	}
	if resp.ContentLength > maxBody {
		return nil, tooLarge()
	}
	if resp.ContentLength >= 0 {
		body := make([]byte, resp.ContentLength)
		if _, err := io.ReadFull(resp.Body, body); err != nil {
			return nil, err
		}
		return body, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > maxBody {
		return nil, tooLarge()
	}
	return body, nil
}

// decode turns one HTTP answer into a result or an error.
func (a *API) decode(method string, resp *http.Response, body []byte, wire map[string]string) (json.RawMessage, error) {
	if err := a.apiError(method, resp, body, wire); err != nil {
		return nil, err
	}
	ct := resp.Header.Get("Content-Type")
	if resp.StatusCode != http.StatusOK || !isJSONType(ct) || !json.Valid(body) {
		e := &DecodeError{Method: method, Status: resp.StatusCode, ContentType: ct,
			Excerpt: excerpt(a.redact(string(body), wire))}
		if resp.StatusCode == http.StatusOK && isJSONType(ct) {
			e.Err = errors.New("the body is not valid JSON")
		}
		return nil, e
	}
	return json.RawMessage(body), nil
}

// apiError reads ok.ru's error answer: an Invocation-Error header, a body
// {"error_code": ..., "error_msg": ..., "error_data": ...}, or both. The
// header alone is enough, for proxies that replace the body. A header that
// is not a number, with no code in the body, says the call failed without
// saying how: a *DecodeError, never a result. Text from the answer is
// cleared of the call's secrets and of extra ones.
func (a *API) apiError(method string, resp *http.Response, body []byte, wire map[string]string, extra ...string) error {
	header := strings.TrimSpace(resp.Header.Get("Invocation-Error"))
	// A body can only be an error envelope if it names error_code, plainly
	// or with escapes in the key: most results are not read twice.
	if header == "" && !bytes.Contains(body, []byte("error_code")) && !bytes.Contains(body, []byte(`\u`)) {
		return nil
	}
	redact := func(text string) string { return Redact(text, append(a.wireSecrets(wire), extra...)...) }
	e := &Error{Method: method}
	if env, ok := readErrorEnvelope(body); ok {
		e.Code = Code(env.code)
		e.Msg = redact(env.msg)
		if len(env.data) > 0 && string(env.data) != "null" {
			e.Data = json.RawMessage(redact(string(env.data)))
		}
	} else if n, err := strconv.Atoi(header); err == nil {
		e.Code = Code(n)
	} else if header != "" {
		return &DecodeError{Method: method, Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"),
			Excerpt: excerpt(redact(string(body))),
			Err:     fmt.Errorf("the Invocation-Error header %q is not an error code", excerpt(redact(header)))}
	} else {
		return nil
	}
	if e.Code == CodeMethod {
		e.DidYouMean = Suggest(method)
	}
	return e
}

// errorEnvelope is ok.ru's error answer:
// {"error_code": 102, "error_msg": "...", "error_data": null}.
type errorEnvelope struct {
	code int
	msg  string
	data json.RawMessage
}

// readErrorEnvelope reads an error envelope from a body: a JSON object with
// an integer error_code and, if present, a string error_msg. Keys match
// exactly, as ok.ru writes them: encoding/json's struct fields would also
// take "Error_Code", which is no error code, and a result holding such a
// key would then read as an error only when a header came with it.
func readErrorEnvelope(body []byte) (errorEnvelope, bool) {
	trimmed := bytes.TrimLeft(body, " \t\r\n") // JSON's white space only
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return errorEnvelope{}, false
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(trimmed, &fields) != nil {
		return errorEnvelope{}, false
	}
	var env errorEnvelope
	var code *int
	if raw, ok := fields["error_code"]; !ok || json.Unmarshal(raw, &code) != nil || code == nil {
		return errorEnvelope{}, false
	}
	env.code = *code
	if raw, ok := fields["error_msg"]; ok && json.Unmarshal(raw, &env.msg) != nil {
		return errorEnvelope{}, false
	}
	env.data = fields["error_data"]
	return env, true
}

// isJSONType reports whether a Content-Type names JSON; ok.ru sends
// exactly "application/json;charset=utf-8", others add a space.
func isJSONType(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/json")
}

// transportError wraps a failure of http.Client.Do, with every secret
// removed from the URL that *url.Error carries.
func (a *API) transportError(method string, err error, wire map[string]string) *TransportError {
	var ue *url.Error
	if re, ok := errors.AsType[*RedirectError](err); ok {
		err = re // its *url.Error would quote the whole Location
	} else if errors.As(err, &ue) {
		err = &url.Error{Op: ue.Op, URL: a.redact(ue.URL, wire), Err: ue.Err}
	}
	return &TransportError{Method: method, Sent: !neverSent(err), Err: err}
}

// neverSent reports whether err shows that the request never left this
// machine: the name did not resolve or the connection was refused.
func neverSent(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

// redact removes the session's secrets and this request's token,
// signature and other sensitive values (auth.login's password) from text.
func (a *API) redact(text string, wire map[string]string) string {
	return Redact(text, a.wireSecrets(wire)...)
}

func (a *API) wireSecrets(wire map[string]string) []string {
	secrets := a.s.secrets()
	for k, v := range wire {
		if IsSensitiveParam(k) {
			secrets = append(secrets, v)
		}
	}
	return secrets
}

// redactErr returns err with its text redacted, keeping it unwrappable
// when the text had nothing to hide.
func (a *API) redactErr(err error, wire map[string]string) error {
	return redactError(err, a.wireSecrets(wire))
}

func redactError(err error, secrets []string) error {
	text := err.Error()
	if clean := Redact(text, secrets...); clean != text {
		return errors.New(clean)
	}
	return err
}

func (a *API) log(ctx context.Context, level slog.Level, msg, method string, attempt int, wait time.Duration, err error) {
	if a.logger == nil || !a.logger.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{slog.String("method", method), slog.Int("attempt", attempt)}
	if wait > 0 {
		attrs = append(attrs, slog.Duration("wait", wait))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", Redact(err.Error(), a.s.secrets()...)))
	}
	a.logger.LogAttrs(ctx, level, msg, attrs...)
}

// CallInto calls method and decodes its result into out, which may point
// to a struct, map, slice, string, number or bool, as json.Unmarshal does.
// A result that does not fit out is a *DecodeError.
func (a *API) CallInto(ctx context.Context, method string, params Params, out any, opts ...CallOption) error {
	raw, err := a.Call(ctx, method, params, opts...)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return &DecodeError{Method: method, Status: http.StatusOK, Err: err,
			Excerpt: excerpt(Redact(string(raw), a.s.secrets()...))}
	}
	return nil
}
