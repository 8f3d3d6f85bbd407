package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"

	"github.com/okru-run/okru-run/okru"
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
