package okru

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultAPIURL and DefaultConnectURL are the bases of ok.ru's REST API and
// of its OAuth pages.
const (
	DefaultAPIURL     = "https://api.ok.ru/"
	DefaultConnectURL = "https://connect.ok.ru/"
)

// Circuit is a signature circuit: which secret signs a request.
type Circuit int

const (
	// CircuitAuto infers the circuit as aiookru does: server-server when the
	// app secret key and an access token are set, else client-server when a
	// session secret key is set.
	CircuitAuto Circuit = iota
	// CircuitServer signs with md5(access_token + app_secret_key).
	CircuitServer
	// CircuitClient signs with the session secret key issued with the token.
	CircuitClient
	// CircuitApp signs with the app secret key and sends no user token; it is
	// the circuit of methods that prohibit a session.
	CircuitApp
)

func (c Circuit) String() string {
	switch c {
	case CircuitServer:
		return "server-server"
	case CircuitClient:
		return "client-server"
	case CircuitApp:
		return "no-session"
	}
	return "auto"
}

// Token is what a login issues for one user. Its String and Format methods
// hide the secrets, so a Token can be printed or logged safely.
type Token struct {
	AccessToken      string
	SessionSecretKey string
	RefreshToken     string
	ExpiresAt        time.Time // zero when unknown
	Permissions      []string  // scopes granted, when the login said
}

// String describes the token without its secrets.
func (t Token) String() string {
	var parts []string
	parts = append(parts, "access_token="+presence(t.AccessToken))
	parts = append(parts, "session_secret_key="+presence(t.SessionSecretKey))
	if t.RefreshToken != "" {
		parts = append(parts, "refresh_token="+presence(t.RefreshToken))
	}
	if !t.ExpiresAt.IsZero() {
		parts = append(parts, "expires="+t.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if len(t.Permissions) > 0 {
		parts = append(parts, "permissions="+strings.Join(t.Permissions, ";"))
	}
	return "okru.Token{" + strings.Join(parts, " ") + "}"
}

// Format makes every verb, %#v and %+v included, print String.
func (t Token) Format(f fmt.State, _ rune) { fmt.Fprint(f, t.String()) }

// LogValue makes log/slog print String, whatever the handler: a JSON
// handler would otherwise marshal the exported secret fields.
func (t Token) LogValue() slog.Value { return slog.StringValue(t.String()) }

func presence(s string) string {
	if s == "" {
		return "(none)"
	}
	return "(set)"
}

// ErrNoCircuit is returned when a session has neither an app secret key with
// an access token nor a session secret key with an access token, so no user
// request can be signed.
var ErrNoCircuit = errors.New("okru: cannot sign: set app_secret_key and access_token (server-server circuit) or session_secret_key and access_token (client-server circuit)")

// Session holds an app's and a user's credentials and signs requests with
// them. It is safe for concurrent use; the token inside may be replaced by a
// refresh while calls are running.
//
// A Session never prints its secrets: String and Format describe it without
// them.
type Session struct {
	appID        string
	appKey       string
	appSecretKey string
	circuit      Circuit
	apiURL       string
	connectURL   string

	mu    sync.RWMutex
	token Token
	gen   uint64 // counts token replacements, so a refresh is done once

	// refresh, when set, gets a new token after the old one expired (error
	// 102); onRefresh lets the owner save it. Both are guarded by mu.
	refresh   RefreshFunc
	onRefresh func(Token)

	// refreshing holds one slot: the goroutine that refreshes the token.
	// A channel rather than a mutex, so that waiting for it honours ctx.
	refreshing chan struct{}

	// derived caches the server-server secret of the current access token,
	// which would otherwise cost an MD5 and two allocations per call.
	derived atomic.Pointer[derivedSecret]
}

type derivedSecret struct{ accessToken, secret string }

// serverSecret returns ServerSecret(accessToken, app secret key), cached.
func (s *Session) serverSecret(accessToken string) string {
	if d := s.derived.Load(); d != nil && d.accessToken == accessToken {
		return d.secret
	}
	d := &derivedSecret{accessToken, ServerSecret(accessToken, s.appSecretKey)}
	s.derived.Store(d)
	return d.secret
}

// RefreshFunc obtains a new token for a session whose token expired. It
// reads what it needs (the refresh token, the app id) from s; it must not
// call SetToken itself.
type RefreshFunc func(ctx context.Context, s *Session) (Token, error)

// SessionOption sets an optional part of a Session.
type SessionOption func(*Session)

// WithAPIURL points the session at another API base URL, such as the sandbox.
func WithAPIURL(u string) SessionOption { return func(s *Session) { s.apiURL = withSlash(u) } }

// WithConnectURL points the session's OAuth pages at another base URL.
func WithConnectURL(u string) SessionOption { return func(s *Session) { s.connectURL = withSlash(u) } }

// WithAppID sets the application id, needed by OAuth logins and refreshes.
func WithAppID(id string) SessionOption { return func(s *Session) { s.appID = id } }

// WithRefreshToken stores the refresh token the session renews its access
// token with when a call answers 102 (session expired). A session that also
// has the app id (WithAppID) and the app secret key refreshes itself with
// the refresh grant (RefreshGrant); others need SetRefresher. onRefresh, if
// not nil, receives every new token so the caller can store it.
func WithRefreshToken(refreshToken string, onRefresh func(Token)) SessionOption {
	return func(s *Session) {
		s.token.RefreshToken = refreshToken
		s.onRefresh = onRefresh
	}
}

func withSlash(u string) string {
	if !strings.HasSuffix(u, "/") {
		return u + "/"
	}
	return u
}

func newSession(appKey, appSecretKey string, c Circuit, tok Token, opts []SessionOption) *Session {
	s := &Session{appKey: appKey, appSecretKey: appSecretKey, circuit: c, token: tok,
		apiURL: DefaultAPIURL, connectURL: DefaultConnectURL, refreshing: make(chan struct{}, 1)}
	for _, o := range opts {
		o(s)
	}
	if s.token.RefreshToken != "" && s.appID != "" && s.appSecretKey != "" {
		s.refresh = RefreshGrant(nil)
	}
	return s
}

// TokenSession returns a session that infers its circuit as aiookru does:
// server-server when appSecretKey and accessToken are set, else
// client-server when sessionSecretKey and accessToken are set. It fails
// with ErrNoCircuit when neither holds. The circuit is inferred again at
// every call, so a refreshed token keeps working.
func TokenSession(appKey, appSecretKey, accessToken, sessionSecretKey string, opts ...SessionOption) (*Session, error) {
	s := newSession(appKey, appSecretKey, CircuitAuto,
		Token{AccessToken: accessToken, SessionSecretKey: sessionSecretKey}, opts)
	if _, err := s.userCircuit(); err != nil {
		return nil, err
	}
	return s, nil
}

// ServerSession returns a session signing with the server-server circuit:
// md5(access_token + app_secret_key).
func ServerSession(appKey, appSecretKey, accessToken string, opts ...SessionOption) *Session {
	return newSession(appKey, appSecretKey, CircuitServer, Token{AccessToken: accessToken}, opts)
}

// ClientSession returns a session signing with the client-server circuit:
// the session secret key issued with accessToken.
func ClientSession(appKey, accessToken, sessionSecretKey string, opts ...SessionOption) *Session {
	return newSession(appKey, "", CircuitClient, Token{AccessToken: accessToken, SessionSecretKey: sessionSecretKey}, opts)
}

// AppSession returns a session with no user, signing with the app secret key;
// it can call only methods whose session is optional or prohibited (server
// callbacks, notifications).
func AppSession(appKey, appSecretKey string, opts ...SessionOption) *Session {
	return newSession(appKey, appSecretKey, CircuitApp, Token{}, opts)
}

// AppID returns the application id, if set.
func (s *Session) AppID() string { return s.appID }

// AppKey returns the application's public key.
func (s *Session) AppKey() string { return s.appKey }

// APIURL returns the API base URL, ending in a slash.
func (s *Session) APIURL() string { return s.apiURL }

// ConnectURL returns the OAuth pages' base URL, ending in a slash.
func (s *Session) ConnectURL() string { return s.connectURL }

// Token returns the session's current token.
func (s *Session) Token() Token {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.token
}

// HasUser reports whether the session carries a user's access token.
func (s *Session) HasUser() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.token.AccessToken != ""
}

// Circuit returns the circuit the session signs user calls with, resolving
// CircuitAuto.
func (s *Session) Circuit() (Circuit, error) { return s.userCircuit() }

// SetToken replaces the session's token, for example after a login.
func (s *Session) SetToken(t Token) {
	s.mu.Lock()
	s.token = t
	s.gen++
	s.mu.Unlock()
}

// SetRefresher installs f to renew the token when a call answers
// PARAM_SESSION_EXPIRED (102): the API then calls f once, stores the new
// token, passes it to the onRefresh function of WithRefreshToken and
// repeats the call once. A nil f turns refreshing off.
func (s *Session) SetRefresher(f RefreshFunc) {
	s.mu.Lock()
	s.refresh = f
	s.mu.Unlock()
}

// CanRefresh reports whether a RefreshFunc is installed.
func (s *Session) CanRefresh() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.refresh != nil
}

// refreshAfter renews the token that was current at generation gen. When
// several calls see the same token expire at once, the first one refreshes
// and the others find a newer generation and just repeat their call.
func (s *Session) refreshAfter(ctx context.Context, gen uint64) error {
	select {
	case s.refreshing <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.refreshing }()

	s.mu.RLock()
	current, f, onRefresh, old := s.gen, s.refresh, s.onRefresh, s.token
	s.mu.RUnlock()
	if current != gen {
		return nil
	}
	if f == nil {
		return errors.New("no refresher is installed")
	}
	t, err := f(ctx, s)
	if err != nil {
		return err
	}
	if t.AccessToken == "" {
		return errors.New("the refresher returned no access token")
	}
	// The refresh grant answers without a new refresh token: keep the old
	// one so the next expiry can be refreshed too.
	if t.RefreshToken == "" {
		t.RefreshToken = old.RefreshToken
	}
	s.SetToken(t)
	if onRefresh != nil {
		onRefresh(t)
	}
	return nil
}

// String describes the session without its secrets.
func (s *Session) String() string {
	c, _ := s.userCircuit()
	return fmt.Sprintf("okru.Session{app_key=%s circuit=%s api=%s %s}", s.appKey, c, s.apiURL, s.Token())
}

// Format makes every verb print String.
func (s *Session) Format(f fmt.State, _ rune) { fmt.Fprint(f, s.String()) }

// LogValue makes log/slog print String, whatever the handler.
func (s *Session) LogValue() slog.Value { return slog.StringValue(s.String()) }

func (s *Session) userCircuit() (Circuit, error) {
	return s.circuitFor(s.Token())
}

func (s *Session) circuitFor(t Token) (Circuit, error) {
	if s.circuit != CircuitAuto {
		return s.circuit, nil
	}
	switch {
	case s.appSecretKey != "" && t.AccessToken != "":
		return CircuitServer, nil
	case t.SessionSecretKey != "" && t.AccessToken != "":
		return CircuitClient, nil
	}
	return CircuitAuto, ErrNoCircuit
}

// snapshot returns the token and its generation under one lock.
func (s *Session) snapshot() (Token, uint64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.token, s.gen
}

// sign adds application_key, the token (unless asApp) and sig to params,
// whose values must already be the exact strings that will be sent. It
// returns the generation of the token it signed with.
// asApp signs as the application, for methods that prohibit a session.
func (s *Session) sign(params map[string]string, asApp bool) (uint64, error) {
	t, gen := s.snapshot()
	params["application_key"] = s.appKey
	delete(params, "sig")
	if asApp {
		if s.appSecretKey == "" {
			return gen, errors.New("okru: this method is called without a user session and is signed with the app secret key, which the session lacks")
		}
		delete(params, "access_token")
		params["sig"] = Sign(params, s.appSecretKey)
		return gen, nil
	}
	c, err := s.circuitFor(t)
	if err != nil {
		return gen, err
	}
	var secret string
	switch c {
	case CircuitServer:
		if s.appSecretKey == "" || t.AccessToken == "" {
			return gen, errors.New("okru: server-server circuit needs app_secret_key and access_token")
		}
		secret = s.serverSecret(t.AccessToken)
	case CircuitClient:
		if t.SessionSecretKey == "" || t.AccessToken == "" {
			return gen, errors.New("okru: client-server circuit needs session_secret_key and access_token")
		}
		secret = t.SessionSecretKey
	case CircuitApp:
		return s.sign(params, true)
	}
	params["access_token"] = t.AccessToken
	params["sig"] = Sign(params, secret)
	return gen, nil
}

// secrets returns every secret the session holds, for redaction.
func (s *Session) secrets() []string {
	t := s.Token()
	out := []string{s.appSecretKey, t.AccessToken, t.SessionSecretKey, t.RefreshToken}
	if s.appSecretKey != "" && t.AccessToken != "" {
		out = append(out, ServerSecret(t.AccessToken, s.appSecretKey))
	}
	return out
}
