package okru

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Options configure an API. The zero value is useful: POST to fb.do with
// http.DefaultClient.
type Options struct {
	HTTPClient *http.Client // nil means http.DefaultClient
	UseGET     bool         // send parameters in the query string (tokens then appear in URLs)
	PathStyle  bool         // call /api/<group>/<method> instead of fb.do?method=
}

// API calls ok.ru methods for one Session.
type API struct {
	s    *Session
	opts Options
	hc   *http.Client
}

// New returns an API calling with s. opts may be nil.
func New(s *Session, opts *Options) *API {
	a := &API{s: s}
	if opts != nil {
		a.opts = *opts
	}
	a.hc = a.opts.HTTPClient
	if a.hc == nil {
		a.hc = http.DefaultClient
	}
	return a
}

// Session returns the session the API calls with.
func (a *API) Session() *Session { return a.s }

// CallOption changes one call.
type CallOption func(*callConfig)

type callConfig struct{}

// Call calls method with params and returns the raw JSON result, which may
// be an object, an array, a string, a number or a boolean.
func (a *API) Call(ctx context.Context, method string, params Params, opts ...CallOption) (json.RawMessage, error) {
	wire, err := params.encode()
	if err != nil {
		return nil, fmt.Errorf("call %s: %w", method, err)
	}
	wire["format"] = "json"
	endpoint := a.s.apiURL + "fb.do"
	if a.opts.PathStyle {
		endpoint = a.s.apiURL + "api/" + strings.Replace(method, ".", "/", 1)
	} else {
		wire["method"] = method
	}
	asApp := false
	if m, ok := LookupMethod(method); ok && m.Session == SessionProhibited {
		asApp = true
	}
	if err := a.s.sign(wire, asApp); err != nil {
		return nil, fmt.Errorf("call %s: %w", method, err)
	}
	form := url.Values{}
	for k, v := range wire {
		form.Set(k, v)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("call %s: %w", method, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("call %s: transport failed", method)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("call %s: read answer: %w", method, err)
	}
	if code := resp.Header.Get("Invocation-Error"); code != "" || bytes.Contains(body, []byte(`"error_code"`)) {
		var env struct {
			Code int             `json:"error_code"`
			Msg  string          `json:"error_msg"`
			Data json.RawMessage `json:"error_data"`
		}
		if json.Unmarshal(body, &env) == nil && env.Code != 0 {
			return nil, &Error{Method: method, Code: Code(env.Code), Msg: env.Msg, Data: env.Data}
		}
		if n, err := strconv.Atoi(code); err == nil {
			return nil, &Error{Method: method, Code: Code(n)}
		}
	}
	return json.RawMessage(body), nil
}
