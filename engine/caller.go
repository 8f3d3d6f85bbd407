package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"

	"github.com/okru-run/okru-run/lang"
	"github.com/okru-run/okru-run/okru"
	"github.com/zclconf/go-cty/cty"
)

// Caller is what the engine needs of an API client: one call, and a list
// method followed page by page. *okru.API satisfies it; tests may count or
// fake calls behind it.
type Caller interface {
	Call(ctx context.Context, method string, params okru.Params, opts ...okru.CallOption) (json.RawMessage, error)
	Pages(ctx context.Context, method string, params okru.Params, opts ...okru.CallOption) iter.Seq2[json.RawMessage, error]
}

var _ Caller = (*okru.API)(nil)

// SessionConfig is a session block after evaluation. Its String and Format
// hide the credentials, so it can be printed safely.
type SessionConfig struct {
	Name             string
	AppID            string
	AppKey           string
	AppSecretKey     string
	AccessToken      string
	SessionSecretKey string
	RefreshToken     string
	APIURL           string
	RateLimit        float64 // calls per second; 0 means DefaultRateLimit, Unlimited no pacing
	Circuit          string  // "auto", "server", "client" or "app"
}

// Pacing of a session's calls: okru's cautious default unless the
// workflow sets rate_limit, which may say "unlimited" (Unlimited).
const (
	DefaultRateLimit = okru.DefaultRate
	Unlimited        = okru.Unlimited
)

// String describes the session without its secrets.
func (s SessionConfig) String() string {
	set := func(v string) string {
		if v == "" {
			return "(none)"
		}
		return "(set)"
	}
	return fmt.Sprintf("session %q{app_key=%s app_secret_key=%s access_token=%s session_secret_key=%s api_url=%s}",
		s.Name, s.AppKey, set(s.AppSecretKey), set(s.AccessToken), set(s.SessionSecretKey), s.APIURL)
}

// Format makes every verb print String.
func (s SessionConfig) Format(f fmt.State, _ rune) { fmt.Fprint(f, s.String()) }

// Secrets returns the credentials of the session, for redacting text.
func (s SessionConfig) Secrets() []string {
	out := []string{s.AppSecretKey, s.AccessToken, s.SessionSecretKey, s.RefreshToken}
	if s.AppSecretKey != "" && s.AccessToken != "" {
		out = append(out, okru.ServerSecret(s.AccessToken, s.AppSecretKey))
	}
	return out
}

// Connector builds the client of one session. The default is Connect; the
// CLI's --sandbox replaces it to point every session at the sandbox.
type Connector func(ctx context.Context, s SessionConfig) (Caller, error)

// Connect builds an okru client for s: the circuit is inferred as
// okru.TokenSession does unless s.Circuit names one, and a session with an
// app secret key but no token becomes an app session.
func Connect(_ context.Context, s SessionConfig) (Caller, error) {
	sess, err := NewSession(s)
	if err != nil {
		return nil, err
	}
	opts := &okru.Options{Rate: s.RateLimit}
	return okru.New(sess, opts), nil
}

// NewSession builds the okru.Session a SessionConfig describes.
func NewSession(s SessionConfig) (*okru.Session, error) {
	if s.AppKey == "" {
		return nil, errors.New("app_key is not set")
	}
	var opts []okru.SessionOption
	if s.APIURL != "" {
		opts = append(opts, okru.WithAPIURL(s.APIURL))
	}
	if s.AppID != "" {
		opts = append(opts, okru.WithAppID(s.AppID))
	}
	if s.RefreshToken != "" {
		opts = append(opts, okru.WithRefreshToken(s.RefreshToken, nil))
	}
	switch strings.ToLower(s.Circuit) {
	case "server":
		if s.AppSecretKey == "" || s.AccessToken == "" {
			return nil, errors.New(`circuit "server" needs app_secret_key and access_token`)
		}
		return okru.ServerSession(s.AppKey, s.AppSecretKey, s.AccessToken, opts...), nil
	case "client":
		if s.AccessToken == "" || s.SessionSecretKey == "" {
			return nil, errors.New(`circuit "client" needs access_token and session_secret_key`)
		}
		return okru.ClientSession(s.AppKey, s.AccessToken, s.SessionSecretKey, opts...), nil
	case "app":
		if s.AppSecretKey == "" {
			return nil, errors.New(`circuit "app" needs app_secret_key`)
		}
		return okru.AppSession(s.AppKey, s.AppSecretKey, opts...), nil
	}
	if s.AccessToken == "" && s.AppSecretKey != "" {
		return okru.AppSession(s.AppKey, s.AppSecretKey, opts...), nil
	}
	sess, err := okru.TokenSession(s.AppKey, s.AppSecretKey, s.AccessToken, s.SessionSecretKey, opts...)
	if err != nil {
		return nil, fmt.Errorf("cannot sign calls: set app_secret_key and access_token (server-server circuit) or access_token and session_secret_key (client-server circuit)")
	}
	return sess, nil
}

// wireParams converts a call's evaluated params into the text the client
// sends. lang turns each value into plain Go values and okru's encoder,
// the only one, writes them, so a workflow sends what a Go program or a
// Lua script with the same values sends. A value with no wire form fails
// here, before the call is journaled or sent. A known plain string, by
// far the most common parameter, is taken as it is, without the deep copy
// that removing marks costs.
func wireParams(params cty.Value) (okru.Params, error) {
	v, _ := params.Unmark()
	if v.IsNull() {
		return okru.Params{}, nil
	}
	if !v.IsKnown() {
		return nil, errors.New("params are not known yet")
	}
	if ty := v.Type(); !ty.IsObjectType() && !ty.IsMapType() {
		return nil, fmt.Errorf("params must be an object, not %s", ty.FriendlyName())
	}
	p := make(okru.Params, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		k, ev := it.Element()
		name := k.AsString()
		s, ok, err := wireParam(name, ev)
		if err != nil {
			return nil, err
		}
		if ok {
			p[name] = s
		}
	}
	return p, nil
}

// wireParam returns the text parameter name is sent as; ok is false for
// null, which is not sent.
func wireParam(name string, v cty.Value) (s string, ok bool, err error) {
	if v.Type() == cty.String && !v.IsMarked() && v.IsKnown() && !v.IsNull() {
		return v.AsString(), true, nil
	}
	g, err := lang.GoValue(v)
	if err != nil {
		return "", false, fmt.Errorf("parameter %s: %w", name, err)
	}
	return okru.EncodeParam(name, g)
}

// wireValue returns the text one parameter value is sent as; ok is false
// for null, which is not sent.
func wireValue(v cty.Value) (s string, ok bool, err error) {
	g, err := lang.GoValue(v)
	if err != nil {
		return "", false, err
	}
	return okru.EncodeValue(g)
}
