package okru_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/okru-run/okru-run/okru"
	"github.com/okru-run/okru-run/okru/okrutest"
)

// loginSandbox starts a small sandbox for login tests.
func loginSandbox(t *testing.T, cfg okrutest.Config) *okrutest.Server {
	t.Helper()
	if cfg.Users == 0 {
		cfg.Users = 40
	}
	srv := okrutest.NewServer(cfg)
	t.Cleanup(srv.Close)
	return srv
}

// demoLogin is an ImplicitConfig for the sandbox's demo user.
func demoLogin(srv *okrutest.Server, scopes ...string) okru.ImplicitConfig {
	app, demo := srv.App(), srv.DemoUser()
	return okru.ImplicitConfig{
		AppID: app.ID, AppKey: app.Key, AppSecretKey: app.SecretKey,
		Login: demo.Login, Password: demo.Password, Permissions: scopes,
		ConnectURL: srv.URL, APIURL: srv.URL,
	}
}

// TestImplicitSessions logs in through the sandbox's pages with every
// session kind of the seed and checks the circuit each one signs with.
func TestImplicitSessions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		login       func(*okrutest.Server) (*okru.Session, error)
		wantCircuit string
	}{
		{"ImplicitSession with the app secret key", func(srv *okrutest.Server) (*okru.Session, error) {
			return okru.ImplicitSession(t.Context(), demoLogin(srv, okru.ScopeValuableAccess))
		}, "server-server"},
		{"ImplicitSession without the app secret key", func(srv *okrutest.Server) (*okru.Session, error) {
			cfg := demoLogin(srv, okru.ScopeValuableAccess)
			cfg.AppSecretKey = ""
			return okru.ImplicitSession(t.Context(), cfg)
		}, "client-server"},
		{"ImplicitServerSession", func(srv *okrutest.Server) (*okru.Session, error) {
			return okru.ImplicitServerSession(t.Context(), demoLogin(srv, okru.ScopeValuableAccess))
		}, "server-server"},
		{"ImplicitClientSession ignores the app secret key", func(srv *okrutest.Server) (*okru.Session, error) {
			return okru.ImplicitClientSession(t.Context(), demoLogin(srv, okru.ScopeValuableAccess))
		}, "client-server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := loginSandbox(t, okrutest.Config{Seed: 3})
			s, err := tt.login(srv)
			if err != nil {
				t.Fatal(err)
			}
			tok := s.Token()
			if !slices.Equal(tok.Permissions, []string{okru.ScopeValuableAccess}) || tok.ExpiresAt.IsZero() || tok.SessionSecretKey == "" {
				t.Errorf("token %v: want VALUABLE_ACCESS, an expiry and a session secret key", tok)
			}
			if s.AppID() != srv.App().ID || s.APIURL() != srv.URL+"/" || s.ConnectURL() != srv.URL+"/" {
				t.Errorf("session %v: app id or URLs not kept", s)
			}
			var uid string
			if err := okru.New(s, &okru.Options{Rate: okru.Unlimited}).CallInto(t.Context(), "users.getLoggedInUser", nil, &uid); err != nil {
				t.Fatal(err)
			}
			calls := callsOf(srv, "users.getLoggedInUser")
			if uid != srv.DemoUser().UID || len(calls) != 1 || calls[0].Circuit != tt.wantCircuit {
				t.Errorf("uid %s, calls %+v; want the demo user over %s", uid, calls, tt.wantCircuit)
			}
		})
	}
}

// TestImplicitLoginTwice: each login starts a new browser (a new cookie
// jar), goes through the pages again and gets a token of its own.
func TestImplicitLoginTwice(t *testing.T) {
	t.Parallel()
	srv := loginSandbox(t, okrutest.Config{Seed: 4})
	cfg := demoLogin(srv, okru.ScopeValuableAccess, okru.ScopePhotoContent)
	first, err := okru.ImplicitLogin(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	second, err := okru.ImplicitLogin(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if first.AccessToken == second.AccessToken {
		t.Error("two logins got the same token")
	}
	if !slices.Equal(second.Permissions, []string{okru.ScopeValuableAccess, okru.ScopePhotoContent}) {
		t.Errorf("permissions %v", second.Permissions)
	}
}

func TestImplicitLoginFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		cfg      okrutest.Config
		change   func(*okru.ImplicitConfig, *okrutest.Server)
		step     okru.LoginStep
		reason   error
		inText   string
		oauthErr string
	}{
		{name: "wrong password", change: func(c *okru.ImplicitConfig, _ *okrutest.Server) { c.Password = "not-the-password-1234" },
			step: okru.StepLoginForm, reason: okru.ErrWrongCredentials, inText: "check the login and the password"},
		{name: "unknown login", change: func(c *okru.ImplicitConfig, _ *okrutest.Server) { c.Login = "nobody@sandbox.ok" },
			step: okru.StepLoginForm, reason: okru.ErrWrongCredentials},
		{name: "another user's password", change: func(c *okru.ImplicitConfig, srv *okrutest.Server) {
			u, _ := srv.LookupUser(friendOfDemo(t, srv))
			c.Password = u.Password
		}, step: okru.StepLoginForm, reason: okru.ErrWrongCredentials},
		{name: "captcha", cfg: okrutest.Config{Faults: okrutest.Faults{LoginCaptcha: true}},
			step: okru.StepLoginForm, reason: okru.ErrCaptcha, inText: "captcha"},
		{name: "wrong app id", change: func(c *okru.ImplicitConfig, _ *okrutest.Server) { c.AppID = "999" },
			step: okru.StepAuthorize, reason: okru.ErrUnexpectedPage, inText: "HTTP 400"},
		{name: "unregistered redirect URI", change: func(c *okru.ImplicitConfig, _ *okrutest.Server) { c.RedirectURI = "https://example.com/cb" },
			step: okru.StepAuthorize, reason: okru.ErrUnexpectedPage, inText: "HTTP 400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.cfg.Seed = 6
			srv := loginSandbox(t, tt.cfg)
			cfg := demoLogin(srv, okru.ScopeValuableAccess)
			if tt.change != nil {
				tt.change(&cfg, srv)
			}
			_, err := okru.ImplicitLogin(t.Context(), cfg)
			var le *okru.LoginError
			if !errors.As(err, &le) || le.Step != tt.step || !errors.Is(err, tt.reason) {
				t.Fatalf("err = %v; want a LoginError at %q for %v", err, tt.step, tt.reason)
			}
			if !strings.Contains(err.Error(), tt.inText) || !strings.Contains(err.Error(), string(tt.step)) {
				t.Errorf("error %q does not say %q and the step", err, tt.inText)
			}
			if tt.oauthErr != "" && !errors.Is(err, &okru.OAuthError{Code: tt.oauthErr}) {
				t.Errorf("error %v is not the OAuth error %s", err, tt.oauthErr)
			}
			t.Log(err)
			if strings.Contains(err.Error(), cfg.Password) {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

// TestLoginScopeRefused: ok.ru may still refuse a list the client passed,
// a known scope the app was not granted. The redirect's error is an
// *OAuthError inside a LoginError at the redirect step.
func TestLoginScopeRefused(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		frag := url.Values{"error": {"invalid_scope"}, "error_description": {"the app may not ask for GET_EMAIL"}, "state": {q.Get("state")}}
		http.Redirect(w, r, q.Get("redirect_uri")+"#"+frag.Encode(), http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	cfg := okru.ImplicitConfig{AppID: "512000000001", Login: "demo", Password: "PASSWORD-0123456789",
		Permissions: []string{okru.ScopeValuableAccess, okru.ScopeGetEmail}, ConnectURL: srv.URL, APIURL: srv.URL}
	_, err := okru.ImplicitLogin(t.Context(), cfg)
	var le *okru.LoginError
	if !errors.As(err, &le) || le.Step != okru.StepRedirect || !errors.Is(err, okru.ErrAuthorization) ||
		!errors.Is(err, &okru.OAuthError{Code: "invalid_scope"}) || !strings.Contains(err.Error(), "may not ask for GET_EMAIL") {
		t.Fatalf("err = %v; want a LoginError at the redirect with the OAuth error invalid_scope", err)
	}
}

// friendOfDemo returns the uid of a user other than the demo user.
func friendOfDemo(t *testing.T, srv *okrutest.Server) string {
	t.Helper()
	var friends []string
	if err := sandboxAPI(srv, nil).CallInto(t.Context(), "friends.get", nil, &friends); err != nil || len(friends) == 0 {
		t.Fatalf("friends of the demo user: %v, %v", friends, err)
	}
	return friends[0]
}

func TestImplicitConfigChecks(t *testing.T) {
	t.Parallel()
	full := okru.ImplicitConfig{AppID: "1", AppKey: "K", Login: "a@b.c", Password: "secret-password"}
	loginOnly := func(c okru.ImplicitConfig) error {
		_, err := okru.ImplicitLogin(t.Context(), c)
		return err
	}
	tests := []struct {
		name   string
		cfg    okru.ImplicitConfig
		login  func(okru.ImplicitConfig) error
		inText string
	}{
		{"no app id", okru.ImplicitConfig{Login: "a", Password: "p"}, loginOnly, "the app id"},
		{"no password", okru.ImplicitConfig{AppID: "1", Login: "a"}, loginOnly, "the password"},
		{"session without app key", okru.ImplicitConfig{AppID: "1", Login: "a", Password: "p"}, func(c okru.ImplicitConfig) error {
			_, err := okru.ImplicitSession(t.Context(), c)
			return err
		}, "the app key"},
		{"server session without secret", full, func(c okru.ImplicitConfig) error {
			_, err := okru.ImplicitServerSession(t.Context(), c)
			return err
		}, "needs the app secret key"},
		{"relative redirect URI", okru.ImplicitConfig{AppID: "1", Login: "a", Password: "p", RedirectURI: "/blank.html"}, loginOnly, "not an absolute URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// A connect URL nobody listens on: these must fail before
			// any request.
			tt.cfg.ConnectURL = "http://127.0.0.1:1/"
			err := tt.login(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.inText) {
				t.Fatalf("err = %v, want %q", err, tt.inText)
			}
		})
	}
}

// pageServer serves saved pages as a login site would, to check how the
// login reacts to pages ok.ru might show. The authorize path answers the
// page; a posted form is recorded and answered by next.
type pageServer struct {
	*httptest.Server
	mu     sync.Mutex
	state  string
	posted url.Values
	paths  []string
}

func newPageServer(t *testing.T, authorize string, next func(ps *pageServer, w http.ResponseWriter, r *http.Request)) *pageServer {
	t.Helper()
	ps := &pageServer{}
	page := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", "login", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ps.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ps.mu.Lock()
		ps.paths = append(ps.paths, r.Method+" "+r.URL.RequestURI())
		ps.mu.Unlock()
		switch {
		case r.URL.Path == "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case r.URL.Path == "/oauth/authorize":
			ps.mu.Lock()
			ps.state = r.URL.Query().Get("state")
			ps.mu.Unlock()
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(page(authorize))
		case r.Method == http.MethodPost:
			r.ParseForm()
			ps.mu.Lock()
			ps.posted = r.PostForm
			ps.mu.Unlock()
			next(ps, w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(ps.Close)
	return ps
}

func (ps *pageServer) redirectURI() string { return ps.URL + "/blank.html" }

// seen returns the requests made and the last form posted.
func (ps *pageServer) seen() ([]string, url.Values) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return slices.Clone(ps.paths), ps.posted
}

// redirectFragment answers with a redirect to the redirect URI whose
// fragment is made by frag from the state the login sent.
func redirectFragment(frag func(state string) string) func(*pageServer, http.ResponseWriter, *http.Request) {
	return func(ps *pageServer, w http.ResponseWriter, _ *http.Request) {
		ps.mu.Lock()
		state := ps.state
		ps.mu.Unlock()
		w.Header().Set("Location", ps.redirectURI()+"#"+frag(state))
		w.WriteHeader(http.StatusFound)
	}
}

const fakeToken = "-s-FAKEaccessTOKEN0123456789"

// TestLoginSavedPages runs the login against saved pages of unusual kinds
// and against answers that break the protocol.
func TestLoginSavedPages(t *testing.T) {
	t.Parallel()
	never := func(*pageServer, http.ResponseWriter, *http.Request) {}
	tests := []struct {
		name   string
		page   string
		next   func(*pageServer, http.ResponseWriter, *http.Request)
		step   okru.LoginStep
		reason error
		detail string
	}{
		{"no form", "noform.html", never, okru.StepAuthorize, okru.ErrUnexpectedPage, "the page has no form"},
		{"two forms", "twoforms.html", never, okru.StepAuthorize, okru.ErrUnexpectedPage, "2 forms"},
		{"captcha", "captcha.html", never, okru.StepAuthorize, okru.ErrCaptcha, ""},
		{"unexpected fields", "unexpected.html", never, okru.StepAuthorize, okru.ErrUnexpectedPage, "fr.smsCode"},
		{"login form with GET", "login_get.html", never, okru.StepLoginForm, okru.ErrUnexpectedPage, "method is GET"},
		{"login form posting elsewhere", "login_elsewhere.html", never, okru.StepLoginForm, okru.ErrUnexpectedPage, "another site"},
		{"HTTP error after the login", "login_relative.html", func(_ *pageServer, w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "oops", http.StatusInternalServerError)
		}, okru.StepLoginForm, okru.ErrUnexpectedPage, "HTTP 500"},
		{"JSON instead of a page", "login_relative.html", func(_ *pageServer, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{}`))
		}, okru.StepLoginForm, okru.ErrUnexpectedPage, "application/json"},
		{"redirect loop", "login_relative.html", func(_ *pageServer, w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/loop", http.StatusFound)
		}, okru.StepLoginForm, okru.ErrUnexpectedPage, "redirects"},
		{"missing session_secret_key", "login_relative.html", redirectFragment(func(state string) string {
			return "access_token=" + fakeToken + "&expires_in=1800&state=" + state
		}), okru.StepRedirect, okru.ErrMissingKey, "session_secret_key"},
		{"expires_in not a number", "login_relative.html", redirectFragment(func(state string) string {
			return "access_token=" + fakeToken + "&session_secret_key=abcdef0123&expires_in=soon&state=" + state
		}), okru.StepRedirect, okru.ErrUnexpectedPage, "expires_in"},
		{"missing state", "login_relative.html", redirectFragment(func(string) string {
			return "access_token=" + fakeToken + "&session_secret_key=abcdef0123&expires_in=60"
		}), okru.StepRedirect, okru.ErrMissingKey, "state"},
		{"another state", "login_relative.html", redirectFragment(func(string) string {
			return "access_token=" + fakeToken + "&session_secret_key=abcdef0123&expires_in=60&state=forged"
		}), okru.StepRedirect, okru.ErrStateMismatch, ""},
		{"access denied", "login_relative.html", redirectFragment(func(state string) string {
			return "error=access_denied&error_description=user+said+no&state=" + state
		}), okru.StepRedirect, okru.ErrAccessDenied, ""},
		{"token sent elsewhere", "login_relative.html", func(_ *pageServer, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Location", "http://collector.example/x#access_token="+fakeToken)
			w.WriteHeader(http.StatusFound)
		}, okru.StepRedirect, okru.ErrUnexpectedPage, "instead of the redirect URI"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ps := newPageServer(t, tt.page, tt.next)
			_, err := okru.ImplicitLogin(t.Context(), okru.ImplicitConfig{AppID: "1", Login: "user@example.com",
				Password: "pw-0123456789", ConnectURL: ps.URL, RedirectURI: ps.redirectURI()})
			var le *okru.LoginError
			if !errors.As(err, &le) || le.Step != tt.step || !errors.Is(err, tt.reason) || !strings.Contains(le.Detail, tt.detail) {
				t.Fatalf("err = %v (detail %q); want step %q, %v, detail %q", err, detailOf(le), tt.step, tt.reason, tt.detail)
			}
			for _, secret := range []string{"pw-0123456789", fakeToken} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error shows a secret: %v", err)
				}
			}
			if paths, _ := ps.seen(); slices.ContainsFunc(paths, func(p string) bool { return strings.HasPrefix(p, "GET /blank.html") }) {
				t.Errorf("the login requested the redirect URI: %v", paths)
			}
		})
	}
}

func detailOf(le *okru.LoginError) string {
	if le == nil {
		return ""
	}
	return le.Detail
}

// TestLoginPostsFormAsBrowser checks what the login posts: the relative
// action resolved against the page, hidden fields with their decoded
// values, checked boxes only, the selected option, the default button, and
// the login and password; and what it reads from the fragment.
func TestLoginPostsFormAsBrowser(t *testing.T) {
	t.Parallel()
	ps := newPageServer(t, "login_relative.html", func(ps *pageServer, w http.ResponseWriter, r *http.Request) {
		redirectFragment(func(state string) string {
			return url.Values{"access_token": {fakeToken}, "session_secret_key": {"ssk-0123456789"}, "expires_in": {"1800"},
				"state": {state}, "permissions_granted": {"VALUABLE_ACCESS;PHOTO_CONTENT"}}.Encode()
		})(ps, w, r)
	})
	tok, err := okru.ImplicitLogin(t.Context(), okru.ImplicitConfig{AppID: "1", Login: "user@example.com",
		Password: "pw & = secret", ConnectURL: ps.URL + "/", RedirectURI: ps.redirectURI() + "?app=1"})
	if err != nil {
		t.Fatal(err)
	}
	paths, posted := ps.seen()
	if len(paths) != 2 || !strings.HasPrefix(paths[0], "GET /oauth/authorize?") || paths[1] != "POST /oauth/login.do?st.cmd=OAuth2Login&st.lang=ru" {
		t.Errorf("requests %v, want the authorize page and the form's action", paths)
	}
	want := url.Values{
		"fr.posted": {"set"}, "fr.hash": {"a&b=c"}, "fr.email": {"user@example.com"}, "fr.password": {"pw & = secret"},
		"fr.agree": {"on"}, "fr.lang": {"ru"}, "fr.note": {"hello"}, "button_login": {"Войти"},
	}
	if fmt.Sprint(posted) != fmt.Sprint(want) {
		t.Errorf("posted %v\nwant   %v", posted, want)
	}
	if tok.AccessToken != fakeToken || tok.SessionSecretKey != "ssk-0123456789" || tok.ExpiresAt.IsZero() ||
		!slices.Equal(tok.Permissions, []string{"VALUABLE_ACCESS", "PHOTO_CONTENT"}) {
		t.Errorf("token %v", tok)
	}
}

// TestLoginNeverShowsSecrets logs in and fails to log in with a debug
// logger and checks that no password, token or key reaches the log, the
// errors or the printed config and session.
func TestLoginNeverShowsSecrets(t *testing.T) {
	t.Parallel()
	srv := loginSandbox(t, okrutest.Config{Seed: 7})
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := demoLogin(srv, okru.ScopeValuableAccess)
	cfg.Logger = logger
	s, err := okru.ImplicitSession(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	tok := s.Token()
	var out strings.Builder
	wrong := cfg
	wrong.Password = "wrong-" + cfg.Password
	_, werr := okru.ImplicitLogin(t.Context(), wrong)
	if werr == nil {
		t.Fatal("a wrong password logged in")
	}
	fmt.Fprintf(&out, "%v %+v %#v %s\n", werr, cfg, cfg, s)
	logger.Info("config", "cfg", cfg, "session", s, "token", tok)
	if !strings.Contains(logs.String(), "login form") || !strings.Contains(logs.String(), "permissions") {
		t.Errorf("the debug log does not follow the pages:\n%s", logs.String())
	}
	text := out.String() + logs.String()
	for name, secret := range map[string]string{
		"password": cfg.Password, "wrong password": wrong.Password, "app secret key": cfg.AppSecretKey,
		"access token": tok.AccessToken, "session secret key": tok.SessionSecretKey,
	} {
		if strings.Contains(text, secret) {
			t.Errorf("the %s is shown:\n%s", name, text)
		}
	}
}
