package okru_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/okru-run/okru-run/okru"
	"github.com/okru-run/okru-run/okru/okrutest"
)

// clock is a sandbox clock that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func oauthConfig(srv *okrutest.Server, scopes ...string) okru.OAuthConfig {
	app := srv.App()
	return okru.OAuthConfig{AppID: app.ID, AppKey: app.Key, AppSecretKey: app.SecretKey, Scopes: scopes,
		ConnectURL: srv.URL, APIURL: srv.URL, RedirectURI: srv.URL + "/blank.html"}
}

// codeLogin logs the demo user in with the code flow and returns the code.
func codeLogin(t *testing.T, srv *okrutest.Server, scopes ...string) string {
	t.Helper()
	cfg := demoLogin(srv, scopes...)
	cfg.RedirectURI = srv.URL + "/blank.html"
	code, err := okru.AuthorizeCode(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func TestAuthorizeURL(t *testing.T) {
	t.Parallel()
	got := okru.AuthorizeURL(okru.OAuthConfig{AppID: "512", Scopes: []string{okru.ScopeValuableAccess, okru.ScopePhotoContent}},
		okru.ResponseTypeCode, "st&1")
	u, err := url.Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{"client_id": {"512"}, "scope": {"VALUABLE_ACCESS;PHOTO_CONTENT"}, "response_type": {"code"},
		"redirect_uri": {okru.DefaultRedirectURI}, "layout": {"w"}, "state": {"st&1"}}
	if u.Scheme+"://"+u.Host+u.Path != okru.DefaultConnectURL+"oauth/authorize" || fmt.Sprint(u.Query()) != fmt.Sprint(want) {
		t.Errorf("AuthorizeURL = %s", got)
	}
	if s := okru.AuthorizeURL(okru.OAuthConfig{AppID: "1", ConnectURL: "http://h:1"}, okru.ResponseTypeToken, ""); !strings.HasPrefix(s, "http://h:1/oauth/authorize?") || strings.Contains(s, "state=") {
		t.Errorf("AuthorizeURL with a connect URL and no state = %s", s)
	}
}

// TestCodeGrant: the code flow against the sandbox, the exchange, and the
// refresh grant; then the ways an exchange fails.
func TestCodeGrant(t *testing.T) {
	t.Parallel()
	clk := newClock()
	srv := loginSandbox(t, okrutest.Config{Seed: 8, Now: clk.Now, TokenTTL: 30 * time.Minute})
	cfg := oauthConfig(srv, okru.ScopeValuableAccess)

	tok, err := okru.ExchangeCode(t.Context(), cfg, codeLogin(t, srv, okru.ScopeValuableAccess))
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.ExpiresAt.IsZero() {
		t.Fatalf("token %v: want an access token, a refresh token and an expiry", tok)
	}
	whoAmI := func(access string) (string, error) {
		s := okru.ServerSession(srv.App().Key, srv.App().SecretKey, access, okru.WithAPIURL(srv.URL))
		var uid string
		err := okru.New(s, &okru.Options{Rate: okru.Unlimited}).CallInto(t.Context(), "users.getLoggedInUser", nil, &uid)
		return uid, err
	}
	if uid, err := whoAmI(tok.AccessToken); err != nil || uid != srv.DemoUser().UID {
		t.Fatalf("code token: uid %q, %v", uid, err)
	}
	fresh, err := okru.RefreshToken(t.Context(), cfg, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken != tok.RefreshToken {
		t.Errorf("refreshed %v from %v: want a new access token and the same refresh token", fresh, tok)
	}
	if uid, err := whoAmI(fresh.AccessToken); err != nil || uid != srv.DemoUser().UID {
		t.Fatalf("refreshed token: uid %q, %v", uid, err)
	}

	secrets := []string{srv.App().SecretKey, tok.RefreshToken}
	tests := []struct {
		name   string
		run    func() error
		code   string
		status int
		inText string
	}{
		{"code used twice", func() error {
			code := codeLogin(t, srv, okru.ScopeValuableAccess)
			if _, err := okru.ExchangeCode(t.Context(), cfg, code); err != nil {
				return err
			}
			_, err := okru.ExchangeCode(t.Context(), cfg, code)
			return err
		}, "invalid_grant", http.StatusBadRequest, "codes are single-use"},
		{"code older than 2 minutes", func() error {
			code := codeLogin(t, srv, okru.ScopeValuableAccess)
			clk.Add(2*time.Minute + time.Second)
			_, err := okru.ExchangeCode(t.Context(), cfg, code)
			return err
		}, "invalid_grant", http.StatusBadRequest, "log in again"},
		{"another redirect URI", func() error {
			code := codeLogin(t, srv, okru.ScopeValuableAccess)
			other := cfg
			other.RedirectURI = "http://127.0.0.1:9/cb"
			_, err := okru.ExchangeCode(t.Context(), other, code)
			return err
		}, "invalid_grant", http.StatusBadRequest, "redirect_uri"},
		{"wrong app secret key", func() error {
			code := codeLogin(t, srv, okru.ScopeValuableAccess)
			other := cfg
			other.AppSecretKey = "WRONGSECRET0123"
			_, err := okru.ExchangeCode(t.Context(), other, code)
			return err
		}, "invalid_client", http.StatusUnauthorized, "check the app id and the app secret key"},
		{"unknown refresh token", func() error {
			_, err := okru.RefreshToken(t.Context(), cfg, "not-a-refresh-token-0123")
			return err
		}, "invalid_grant", http.StatusBadRequest, "the refresh token expired or was revoked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Sequential: one subtest moves the shared clock.
			err := tt.run()
			var oe *okru.OAuthError
			if !errors.As(err, &oe) || oe.Code != tt.code || oe.Status != tt.status || !strings.Contains(err.Error(), tt.inText) {
				t.Fatalf("err = %v; want OAuth error %s (HTTP %d) saying %q", err, tt.code, tt.status, tt.inText)
			}
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("the error shows a secret: %v", err)
				}
			}
		})
	}
}

func TestTokenGrantNeedsCredentials(t *testing.T) {
	t.Parallel()
	for _, run := range []func() error{
		func() error {
			_, err := okru.ExchangeCode(t.Context(), okru.OAuthConfig{AppID: "1"}, "code")
			return err
		},
		func() error {
			_, err := okru.RefreshToken(t.Context(), okru.OAuthConfig{AppSecretKey: "s"}, "rt")
			return err
		},
		func() error {
			_, err := okru.ExchangeCode(t.Context(), okru.OAuthConfig{AppID: "1", AppSecretKey: "s"}, "")
			return err
		},
	} {
		if err := run(); err == nil || !strings.Contains(err.Error(), "oauth token.do") {
			t.Errorf("err = %v, want a refusal before any request", err)
		}
	}
}

// TestTokenDoAnswers checks how odd token.do answers are read: expires_in
// as a string, a proxy's HTML page, and a 503 that is retried for a
// refresh but not for a code.
func TestTokenDoAnswers(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	answers := map[string]func(w http.ResponseWriter){
		"string-expiry": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"access_token":"tok-0123456789","token_type":"session","expires_in":"1800"}`)
		},
		"html": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html>bad gateway</html>")
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		r.ParseForm()
		answers[r.Form.Get("refresh_token")+r.Form.Get("code")](w)
	}))
	t.Cleanup(srv.Close)
	cfg := okru.OAuthConfig{AppID: "1", AppSecretKey: "secret-0123", APIURL: srv.URL}

	before := time.Now()
	tok, err := okru.RefreshToken(t.Context(), cfg, "string-expiry")
	if err != nil {
		t.Fatal(err)
	}
	if tok.ExpiresAt.Before(before.Add(1799*time.Second)) || tok.RefreshToken != "string-expiry" {
		t.Errorf("token %v", tok)
	}
	hits.Store(0)
	_, err = okru.ExchangeCode(t.Context(), cfg, "html")
	var de *okru.DecodeError
	if !errors.As(err, &de) || de.Status != http.StatusBadGateway || hits.Load() != 1 {
		t.Errorf("code exchange through a bad gateway: %v after %d requests; want one request and a DecodeError", err, hits.Load())
	}
	hits.Store(0)
	if _, err = okru.RefreshToken(t.Context(), cfg, "html"); !errors.As(err, &de) || hits.Load() != okru.DefaultMaxAttempts {
		t.Errorf("refresh through a bad gateway: %v after %d requests; want %d attempts", err, hits.Load(), okru.DefaultMaxAttempts)
	}
}

// TestExpiredTokenRefreshed: a session made from a code grant refreshes
// its expired token by itself, once for many parallel calls, hands the new
// token to the caller, and every call goes through.
func TestExpiredTokenRefreshed(t *testing.T) {
	t.Parallel()
	clk := newClock()
	srv := loginSandbox(t, okrutest.Config{Seed: 9, Now: clk.Now, TokenTTL: 30 * time.Minute})
	cfg := oauthConfig(srv, okru.ScopeValuableAccess)
	tok, err := okru.ExchangeCode(t.Context(), cfg, codeLogin(t, srv, okru.ScopeValuableAccess))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var saved []okru.Token
	s := okru.ServerSession(srv.App().Key, srv.App().SecretKey, tok.AccessToken, okru.WithAPIURL(srv.URL),
		okru.WithAppID(srv.App().ID), okru.WithRefreshToken(tok.RefreshToken, func(t okru.Token) {
			mu.Lock()
			saved = append(saved, t)
			mu.Unlock()
		}))
	if !s.CanRefresh() {
		t.Fatal("a session with an app id, an app secret key and a refresh token cannot refresh")
	}
	api := okru.New(s, &okru.Options{Rate: okru.Unlimited})

	clk.Add(31 * time.Minute) // the token expires
	const parallel = 8
	var wg sync.WaitGroup
	errs := make(chan error, parallel)
	for range parallel {
		wg.Go(func() {
			var uid string
			if err := api.CallInto(t.Context(), "users.getLoggedInUser", nil, &uid); err != nil {
				errs <- err
			} else if uid != srv.DemoUser().UID {
				errs <- fmt.Errorf("uid %s", uid)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(saved) != 1 || saved[0].AccessToken == tok.AccessToken || saved[0].RefreshToken != tok.RefreshToken {
		t.Fatalf("onRefresh got %v, want one new token keeping the refresh token", saved)
	}
	if got := s.Token(); got.AccessToken != saved[0].AccessToken || !slices.Equal(got.Permissions, tok.Permissions) {
		t.Errorf("session token %v, want the refreshed one", got)
	}
	calls := callsOf(srv, "users.getLoggedInUser")
	expired, ok := 0, 0
	for _, c := range calls {
		switch c.Code {
		case okru.CodeParamSessionExpired:
			expired++
		case 0:
			ok++
		}
	}
	if expired == 0 || ok != parallel || expired+ok != len(calls) {
		t.Errorf("sandbox saw %d expired and %d accepted calls of %d, want some expired and %d accepted", expired, ok, len(calls), parallel)
	}
}

// TestRefreshFailureReported: when the refresh grant fails, the call fails
// with both the expiry and the reason, and no secret.
func TestRefreshFailureReported(t *testing.T) {
	t.Parallel()
	srv := loginSandbox(t, okrutest.Config{Seed: 10})
	old := srv.IssueToken(srv.DemoUser().UID, okru.ScopeValuableAccess)
	srv.ExpireToken(old.AccessToken)
	const refresh = "bogus-refresh-token-0123456789"
	s := okru.ServerSession(srv.App().Key, srv.App().SecretKey, old.AccessToken, okru.WithAPIURL(srv.URL),
		okru.WithAppID(srv.App().ID), okru.WithRefreshToken(refresh, nil))
	_, err := okru.New(s, &okru.Options{Rate: okru.Unlimited}).Call(t.Context(), "users.getLoggedInUser", nil)
	if !errors.Is(err, okru.CodeParamSessionExpired) || !errors.Is(err, &okru.OAuthError{Code: "invalid_grant"}) {
		t.Fatalf("err = %v, want the expiry and invalid_grant", err)
	}
	if strings.Contains(err.Error(), refresh) || strings.Contains(err.Error(), srv.App().SecretKey) {
		t.Errorf("the error shows a secret: %v", err)
	}
}

func TestPasswordLogin(t *testing.T) {
	t.Parallel()
	srv := loginSandbox(t, okrutest.Config{Seed: 11})
	demo := srv.DemoUser()
	cfg := oauthConfig(srv)
	tok, err := okru.PasswordLogin(t.Context(), cfg, demo.Login, demo.Password)
	if err != nil {
		t.Fatal(err)
	}
	s := okru.ClientSession(srv.App().Key, tok.AccessToken, tok.SessionSecretKey, okru.WithAPIURL(srv.URL))
	var uid string
	if err := okru.New(s, &okru.Options{Rate: okru.Unlimited}).CallInto(t.Context(), "users.getLoggedInUser", nil, &uid); err != nil || uid != demo.UID {
		t.Fatalf("session from auth.login: uid %q, %v", uid, err)
	}

	const wrong = "wrong-password-0123456789"
	_, err = okru.PasswordLogin(t.Context(), cfg, demo.Login, wrong)
	if !errors.Is(err, okru.CodeAuthLogin) || strings.Contains(err.Error(), wrong) {
		t.Fatalf("wrong password: err = %v, want AUTH_LOGIN without the password", err)
	}
	calls := callsOf(srv, "auth.login")
	if len(calls) != 2 || calls[0].Circuit != "unsigned" || calls[1].Code != okru.CodeAuthLogin {
		t.Fatalf("sandbox saw %+v", calls)
	}
	for _, c := range calls {
		if _, ok := c.Params["password"]; ok || c.Params["user_name"] != demo.Login {
			t.Errorf("call log %v: want user_name and no password", c.Params)
		}
	}
	if _, err := okru.PasswordLogin(t.Context(), cfg, demo.Login, ""); err == nil {
		t.Error("an empty password was sent")
	}
}

// TestScopeNotGranted: a token carries the scopes granted at login; a
// method needing another one answers PERMISSION_DENIED (10).
func TestScopeNotGranted(t *testing.T) {
	t.Parallel()
	srv := loginSandbox(t, okrutest.Config{Seed: 12})
	s, err := okru.ImplicitSession(t.Context(), demoLogin(srv, okru.ScopeValuableAccess))
	if err != nil {
		t.Fatal(err)
	}
	api := okru.New(s, &okru.Options{Rate: okru.Unlimited})
	if _, err := api.Call(t.Context(), "photosV2.getUploadUrl", nil); !errors.Is(err, okru.CodePermissionDenied) {
		t.Errorf("photosV2.getUploadUrl: err = %v, want PERMISSION_DENIED (needs PHOTO_CONTENT)", err)
	}
	// users.getCurrentUser needs no permission; without GET_EMAIL it
	// leaves out email (FIDELITY.md).
	var me map[string]any
	if err := api.CallInto(t.Context(), "users.getCurrentUser", okru.Params{"fields": "uid,email"}, &me); err != nil || me["uid"] == nil || me["email"] != nil {
		t.Errorf("users.getCurrentUser = %v, %v; want the user without email", me, err)
	}
	if _, err := api.Call(t.Context(), "friends.get", nil); err != nil {
		t.Errorf("friends.get needs no extra scope: %v", err)
	}
}

func TestOAuthConfigHidesSecret(t *testing.T) {
	t.Parallel()
	cfg := okru.OAuthConfig{AppID: "1", AppSecretKey: "SECRET-0123456789"}
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v %#v", cfg, cfg)} {
		if strings.Contains(s, cfg.AppSecretKey) {
			t.Errorf("%s shows the secret", s)
		}
	}
}

// TestTokenDoHTMLPages: the HTML error pages ok.ru's token.do answers (an
// HTTP 400 page; an HTTP 200 page "Failed to convert value...") are an
// *OAuthError naming the status and the page's title, sent once, with no
// secret in the message and no advice about the API URL.
func TestTokenDoHTMLPages(t *testing.T) {
	t.Parallel()
	const secret, code = "SECRET-0123456789", "CODE-0123456789"
	tests := []struct {
		name   string
		status int
		page   string
		title  string
	}{
		{"HTTP 400 page", http.StatusBadRequest,
			"<!DOCTYPE html><html><head><title>HTTP Status 400 – Bad Request</title></head><body><h1>Bad Request</h1><p>" + code + "</p></body></html>",
			"HTTP Status 400 – Bad Request"},
		{"HTTP 200 conversion page", http.StatusOK,
			"<html><body><h1>Failed to convert value of type 'java.lang.String' to required type 'long'; " + code + "</h1></body></html>",
			"Failed to convert value of type 'java.lang.String' to required type 'long'; [REDACTED]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				w.Header().Set("Content-Type", "text/html;charset=UTF-8")
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.page)
			}))
			t.Cleanup(srv.Close)
			cfg := okru.OAuthConfig{AppID: "1", AppSecretKey: secret, APIURL: srv.URL}
			for grant, try := range map[string]func() error{
				"authorization_code": func() error { _, err := okru.ExchangeCode(t.Context(), cfg, code); return err },
				"refresh_token":      func() error { _, err := okru.RefreshToken(t.Context(), cfg, code); return err },
			} {
				hits.Store(0)
				err := try()
				var oe *okru.OAuthError
				if !errors.As(err, &oe) || oe.Status != tt.status || oe.Page != tt.title || oe.Grant != grant {
					t.Fatalf("%s: err = %#v, want an OAuthError with HTTP %d and page %q", grant, err, tt.status, tt.title)
				}
				msg := err.Error()
				if !strings.Contains(msg, fmt.Sprintf("HTTP %d", tt.status)) || !strings.Contains(msg, strings.Split(tt.title, ";")[0]) ||
					strings.Contains(msg, "API URL") || strings.Contains(msg, secret) || strings.Contains(msg, code) || hits.Load() != 1 {
					t.Errorf("%s: %q after %d requests", grant, msg, hits.Load())
				}
			}
		})
	}
}
