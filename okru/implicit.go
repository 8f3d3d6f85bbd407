package okru

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/publicsuffix"
)

// ImplicitConfig holds what the implicit login needs: the app, the user's
// login and password, and the permissions to ask for. Its String method
// hides the password and the app secret key.
type ImplicitConfig struct {
	AppID        string // client_id; always needed
	AppKey       string // the public application_key; needed by the session constructors
	AppSecretKey string // needed by ImplicitServerSession; optional for ImplicitSession
	Login        string // the user's login: e-mail, phone or user name
	Password     string
	Permissions  []string // scopes from Scopes, e.g. ScopeValuableAccess; checked before any request
	RedirectURI  string   // "" means DefaultRedirectURI
	ConnectURL   string   // "" means DefaultConnectURL
	APIURL       string   // "" means DefaultAPIURL; used by the session
	// HTTPClient's transport sends the requests; the login uses a copy of
	// the client with its own cookie jar and redirect policy. nil means
	// the shared default client.
	HTTPClient *http.Client
	// Logger receives a debug line per page of the login; nil is silent.
	// Lines name pages by path and never hold a secret.
	Logger *slog.Logger
}

// String describes the config without its secrets.
func (c ImplicitConfig) String() string {
	return fmt.Sprintf("okru.ImplicitConfig{app_id=%s app_key=%s app_secret_key=%s login=%s password=%s permissions=%s}",
		c.AppID, c.AppKey, presence(c.AppSecretKey), c.Login, presence(c.Password), strings.Join(c.Permissions, ";"))
}

// Format makes every verb print String.
func (c ImplicitConfig) Format(f fmt.State, _ rune) { fmt.Fprint(f, c.String()) }

// LogValue makes log/slog print String, whatever the handler.
func (c ImplicitConfig) LogValue() slog.Value { return slog.StringValue(c.String()) }

func (c ImplicitConfig) oauth() OAuthConfig {
	return OAuthConfig{AppID: c.AppID, AppKey: c.AppKey, AppSecretKey: c.AppSecretKey, RedirectURI: c.RedirectURI,
		Scopes: c.Permissions, ConnectURL: c.ConnectURL, APIURL: c.APIURL, HTTPClient: c.HTTPClient}
}

func (c ImplicitConfig) check(needKey bool) error {
	var missing []string
	if c.AppID == "" {
		missing = append(missing, "the app id")
	}
	if needKey && c.AppKey == "" {
		missing = append(missing, "the app key")
	}
	if c.Login == "" {
		missing = append(missing, "the login")
	}
	if c.Password == "" {
		missing = append(missing, "the password")
	}
	if len(missing) > 0 {
		return fmt.Errorf("okru login: %s must be set", strings.Join(missing, ", "))
	}
	// Before any request: ok.ru refuses a bad list only after the
	// password was posted.
	if err := CheckScopes(c.Permissions); err != nil {
		return fmt.Errorf("okru login: %w", err)
	}
	return nil
}

func (c ImplicitConfig) sessionOptions() []SessionOption {
	opts := []SessionOption{WithAppID(c.AppID)}
	if c.APIURL != "" {
		opts = append(opts, WithAPIURL(c.APIURL))
	}
	if c.ConnectURL != "" {
		opts = append(opts, WithConnectURL(c.ConnectURL))
	}
	return opts
}

// ImplicitSession logs in as ImplicitLogin does and returns a session
// that infers its circuit as TokenSession does: server-server when
// cfg.AppSecretKey is set, else client-server with the session secret key
// the login issued.
func ImplicitSession(ctx context.Context, cfg ImplicitConfig) (*Session, error) {
	if err := cfg.check(true); err != nil {
		return nil, err
	}
	t, err := ImplicitLogin(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return newSession(cfg.AppKey, cfg.AppSecretKey, CircuitAuto, t, cfg.sessionOptions()), nil
}

// ImplicitServerSession logs in as ImplicitLogin does and returns a session
// signing with the server-server circuit, md5(access_token +
// app_secret_key). It fails before any request when cfg.AppSecretKey is
// empty.
func ImplicitServerSession(ctx context.Context, cfg ImplicitConfig) (*Session, error) {
	if err := cfg.check(true); err != nil {
		return nil, err
	}
	if cfg.AppSecretKey == "" {
		return nil, errors.New("okru login: the server-server circuit needs the app secret key; set ImplicitConfig.AppSecretKey or use ImplicitClientSession")
	}
	t, err := ImplicitLogin(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return newSession(cfg.AppKey, cfg.AppSecretKey, CircuitServer, t, cfg.sessionOptions()), nil
}

// ImplicitClientSession logs in as ImplicitLogin does and returns a session
// signing with the client-server circuit: the session secret key issued
// with the token. It never uses the app secret key, as an app on a user's
// device must not hold it.
func ImplicitClientSession(ctx context.Context, cfg ImplicitConfig) (*Session, error) {
	if err := cfg.check(true); err != nil {
		return nil, err
	}
	cfg.AppSecretKey = ""
	t, err := ImplicitLogin(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return newSession(cfg.AppKey, "", CircuitClient, t, cfg.sessionOptions()), nil
}

// ImplicitLogin logs a user in through ok.ru's authorize page as a browser
// would, and returns the token of the implicit flow (response_type=token):
// it opens the authorize URL with a cookie jar, follows redirects to the
// login page, posts the login form with the login and password, accepts
// the permissions form, and reads access_token, session_secret_key,
// expires_in, state and permissions_granted from the fragment of the
// redirect to the redirect URI, which it never requests.
//
// A bad scope list is a *ScopeError, found before any request. Other
// failures are a *LoginError naming the step; errors.Is tells
// ErrWrongCredentials, ErrCaptcha, ErrUnexpectedPage, ErrMissingKey,
// ErrAccessDenied, ErrAuthorization and ErrStateMismatch apart. No error or
// log line holds the password, the token or the fragment.
func ImplicitLogin(ctx context.Context, cfg ImplicitConfig) (Token, error) {
	if err := cfg.check(false); err != nil {
		return Token{}, err
	}
	loc, state, err := authorize(ctx, cfg, ResponseTypeToken)
	if err != nil {
		return Token{}, err
	}
	return tokenFromFragment(loc, state, time.Now())
}

// AuthorizeCode logs a user in as ImplicitLogin does, but asks for the code
// flow (response_type=code) and returns the code of the redirect. Exchange
// it within 2 minutes with ExchangeCode for a token with a refresh token;
// the app's redirect URI must be the one the code is exchanged with.
func AuthorizeCode(ctx context.Context, cfg ImplicitConfig) (string, error) {
	if err := cfg.check(false); err != nil {
		return "", err
	}
	loc, state, err := authorize(ctx, cfg, ResponseTypeCode)
	if err != nil {
		return "", err
	}
	q := loc.Query()
	if err := redirectError(q); err != nil {
		return "", err
	}
	if err := checkState(q, state); err != nil {
		return "", err
	}
	code := q.Get("code")
	if code == "" {
		return "", &LoginError{Step: StepRedirect, Reason: ErrMissingKey, Detail: "code"}
	}
	return code, nil
}

// LoginStep names a step of the implicit login, for errors.
type LoginStep string

// The steps of a login, in order.
const (
	StepAuthorize   LoginStep = "authorize page"
	StepLoginForm   LoginStep = "login form"
	StepPermissions LoginStep = "permissions form"
	StepRedirect    LoginStep = "redirect"
)

// Reasons of a *LoginError, for errors.Is.
var (
	// ErrWrongCredentials: ok.ru showed the login form again after it was
	// posted.
	ErrWrongCredentials = errors.New("wrong login or password")
	// ErrCaptcha: ok.ru asks a human to solve a captcha.
	ErrCaptcha = errors.New("ok.ru asks for a captcha")
	// ErrUnexpectedPage: a page the login does not recognise (no form,
	// several forms, unknown fields, an HTTP error, a redirect elsewhere).
	ErrUnexpectedPage = errors.New("unexpected page")
	// ErrMissingKey: the redirect lacks a key the flow needs; Detail names it.
	ErrMissingKey = errors.New("a key is missing from the redirect")
	// ErrAccessDenied: the redirect says error=access_denied.
	ErrAccessDenied = errors.New("access denied")
	// ErrAuthorization: the redirect carries another OAuth error.
	ErrAuthorization = errors.New("the authorization failed")
	// ErrStateMismatch: the redirect's state is not the one this login sent.
	ErrStateMismatch = errors.New("the state in the redirect is not the one sent")
)

// LoginError is a failed step of a browser-like login. It holds no secret:
// Detail names fields and keys, never their values, and Err has been
// redacted.
type LoginError struct {
	Step   LoginStep
	Reason error  // one of the Err... reasons above, or nil for a transport failure
	Detail string // what was seen, e.g. "the page has 2 forms where one was expected"
	Err    error  // the cause: an *OAuthError, a transport error, ...
}

func (e *LoginError) Error() string {
	var b strings.Builder
	b.WriteString("okru login: ")
	b.WriteString(string(e.Step))
	if e.Reason != nil {
		b.WriteString(": " + e.Reason.Error())
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	if hint := loginHint(e.Reason); hint != "" {
		b.WriteString(" (" + hint + ")")
	}
	return b.String()
}

// Unwrap returns the reason and the cause, so that errors.Is works with
// both ErrCaptcha and context.Canceled.
func (e *LoginError) Unwrap() []error {
	var out []error
	if e.Reason != nil {
		out = append(out, e.Reason)
	}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}

func loginHint(reason error) string {
	switch reason {
	case ErrWrongCredentials:
		return "ok.ru showed the login form again after it was posted; check the login and the password"
	case ErrCaptcha:
		return "log in once in a browser from this network to clear it, then retry"
	case ErrUnexpectedPage:
		return "check the connect URL; ok.ru's pages may have changed"
	case ErrMissingKey:
		return "check that the app allows this login flow and the redirect URI"
	case ErrStateMismatch:
		return "the redirect belongs to another login; retry"
	}
	return ""
}

// maxLoginPages bounds the pages a login goes through: authorize, login,
// permissions, and slack for a site that adds an interstitial page.
const maxLoginPages = 6

// maxLoginRedirects bounds the redirects followed for one request.
const maxLoginRedirects = 10

// maxPageSize bounds an HTML page read by the login.
const maxPageSize = 2 << 20

var errTooManyRedirects = errors.New("stopped after " + strconv.Itoa(maxLoginRedirects) + " redirects")

// browser is the HTTP side of a login: a client with its own cookie jar
// that stops at the redirect URI and stays on the connect URL's origin.
type browser struct {
	hc       *http.Client
	redirect *url.URL
	connect  *url.URL // the connect URL: its scheme and host are the only origin the login talks to
	logger   *slog.Logger
	secrets  []string
}

// offOriginError is a redirect the login refused: it left the connect
// URL's origin (another host, or http from https).
type offOriginError struct{ target string }

func (e *offOriginError) Error() string { return "redirected to " + e.target }

func newBrowser(cfg ImplicitConfig) (*browser, error) {
	redirect, err := url.Parse(cfg.oauth().redirectURI())
	if err != nil || !redirect.IsAbs() {
		return nil, fmt.Errorf("okru login: the redirect URI %q is not an absolute URL", cfg.RedirectURI)
	}
	jar, err := cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List})
	if err != nil {
		return nil, err
	}
	base := cfg.HTTPClient
	if base == nil {
		base = defaultClient()
	}
	connect, err := url.Parse(cfg.oauth().connectURL())
	if err != nil || !connect.IsAbs() || connect.Host == "" {
		return nil, fmt.Errorf("okru login: the connect URL %q is not an absolute URL", cfg.ConnectURL)
	}
	b := &browser{redirect: redirect, connect: connect, logger: cfg.Logger, secrets: []string{cfg.Password, cfg.AppSecretKey}}
	hc := *base
	hc.Jar = jar
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		// The redirect URI is never requested: its fragment holds the
		// token, and the default one (oauth.mycdn.me) is a page nobody
		// needs to load.
		if b.isRedirectURI(req.URL) || req.URL.Fragment != "" {
			return http.ErrUseLastResponse
		}
		// Elsewhere the cookies, the login and the password must not
		// follow: only redirects within the connect origin are taken.
		if !b.onConnectOrigin(req.URL) {
			return &offOriginError{target: originPath(req.URL)}
		}
		if len(via) >= maxLoginRedirects {
			return errTooManyRedirects
		}
		return nil
	}
	b.hc = &hc
	return b, nil
}

// onConnectOrigin reports whether u has the connect URL's scheme and host
// (port included): the login neither leaves ok.ru's connect site nor
// downgrades from https to http.
func (b *browser) onConnectOrigin(u *url.URL) bool {
	return strings.EqualFold(u.Scheme, b.connect.Scheme) && strings.EqualFold(u.Host, b.connect.Host)
}

// isRedirectURI compares scheme, host and path: ok.ru ignores the query of
// a redirect URI when it checks it.
func (b *browser) isRedirectURI(u *url.URL) bool {
	return strings.EqualFold(u.Scheme, b.redirect.Scheme) && strings.EqualFold(u.Host, b.redirect.Host) &&
		strings.TrimSuffix(u.Path, "/") == strings.TrimSuffix(b.redirect.Path, "/")
}

// authorize runs the browser part of a login and returns the URL the
// authorize flow finally redirected to (the redirect URI with the token or
// the code), and the state it sent.
func authorize(ctx context.Context, cfg ImplicitConfig, responseType string) (*url.URL, string, error) {
	b, err := newBrowser(cfg)
	if err != nil {
		return nil, "", err
	}
	state := randomState()
	step := StepAuthorize
	resp, err := b.do(ctx, step, http.MethodGet, AuthorizeURL(cfg.oauth(), responseType, state), "")
	if err != nil {
		return nil, "", err
	}
	postedLogin, postedPermissions := false, false
	for range maxLoginPages {
		if loc, stopped, err := b.stoppedAt(step, resp); stopped || err != nil {
			return loc, state, err
		}
		page, err := b.readPage(step, resp)
		if err != nil {
			return nil, "", err
		}
		kind, detail := page.classify()
		b.log(ctx, "okru login: page", step, page.url, kind)
		switch kind {
		case pageCaptcha:
			return nil, "", &LoginError{Step: step, Reason: ErrCaptcha}
		case pageLogin:
			if postedLogin {
				return nil, "", &LoginError{Step: StepLoginForm, Reason: ErrWrongCredentials}
			}
			postedLogin, step = true, StepLoginForm
			resp, err = b.submit(ctx, step, page, map[string]string{fieldEmail: cfg.Login, fieldPassword: cfg.Password}, "")
		case pagePermissions:
			if postedPermissions {
				return nil, "", &LoginError{Step: StepPermissions, Reason: ErrUnexpectedPage, Detail: "the permissions form came back after it was accepted"}
			}
			postedPermissions, step = true, StepPermissions
			resp, err = b.submit(ctx, step, page, nil, buttonAccept)
		default:
			return nil, "", &LoginError{Step: step, Reason: ErrUnexpectedPage, Detail: detail}
		}
		if err != nil {
			return nil, "", err
		}
	}
	resp.Body.Close()
	return nil, "", &LoginError{Step: step, Reason: ErrUnexpectedPage, Detail: fmt.Sprintf("no redirect to the redirect URI after %d pages", maxLoginPages)}
}

// do sends one request of the login, following redirects until a page or
// the redirect URI.
func (b *browser) do(ctx context.Context, step LoginStep, method, target, form string) (*http.Response, error) {
	var body io.Reader
	if form != "" {
		body = strings.NewReader(form)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, &LoginError{Step: step, Err: redactError(err, b.secrets)}
	}
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	req.Header.Set("User-Agent", "Mozilla/5.0 (compatible; okru-run)")
	resp, err := b.hc.Do(req)
	if err != nil {
		if errors.Is(err, errTooManyRedirects) {
			return nil, &LoginError{Step: step, Reason: ErrUnexpectedPage, Detail: errTooManyRedirects.Error()}
		}
		if off, ok := errors.AsType[*offOriginError](err); ok {
			return nil, &LoginError{Step: step, Reason: ErrUnexpectedPage, Detail: off.Error() +
				", off the connect URL's origin " + b.connect.Scheme + "://" + b.connect.Host + "; the login follows no redirect elsewhere"}
		}
		return nil, &LoginError{Step: step, Err: redactError(err, b.secrets)}
	}
	return resp, nil
}

// stoppedAt reports whether resp is the redirect the client stopped at,
// and returns its target. A redirect with a fragment to anywhere but the
// redirect URI is refused: no token goes to an address the app did not
// name.
func (b *browser) stoppedAt(step LoginStep, resp *http.Response) (*url.URL, bool, error) {
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return nil, false, nil
	}
	resp.Body.Close()
	loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil || resp.Header.Get("Location") == "" {
		// Never quote the Location: it may hold the token.
		return nil, true, &LoginError{Step: step, Reason: ErrUnexpectedPage, Detail: "a redirect without a valid Location"}
	}
	if !b.isRedirectURI(loc) {
		return nil, true, &LoginError{Step: StepRedirect, Reason: ErrUnexpectedPage,
			Detail: "redirected with a fragment to " + loc.Scheme + "://" + loc.Host + loc.Path + " instead of the redirect URI"}
	}
	b.log(context.Background(), "okru login: redirected to the redirect URI", StepRedirect, nil, pageUnknown)
	return loc, true, nil
}

// readPage reads and parses an HTML answer.
func (b *browser) readPage(step LoginStep, resp *http.Response) (*htmlPage, error) {
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		detail := fmt.Sprintf("HTTP %d %s at %s", resp.StatusCode, http.StatusText(resp.StatusCode), resp.Request.URL.Path)
		if text := b.pageText(resp); text != "" {
			detail += ": " + strconv.Quote(text)
		}
		if step == StepAuthorize && resp.StatusCode < 500 {
			detail += "; check the app id and that the redirect URI is registered for the app"
		}
		return nil, &LoginError{Step: step, Reason: ErrUnexpectedPage, Detail: detail}
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "" && mt != "text/html" && mt != "application/xhtml+xml" {
		return nil, &LoginError{Step: step, Reason: ErrUnexpectedPage, Detail: "the answer is " + mt + ", not an HTML page"}
	}
	page, err := parsePage(io.LimitReader(resp.Body, maxPageSize), resp.Request.URL)
	if err != nil {
		return nil, &LoginError{Step: step, Reason: ErrUnexpectedPage, Detail: "the page cannot be read", Err: redactError(err, b.secrets)}
	}
	return page, nil
}

// pageText returns the start of an error page's visible text, which
// usually says what is wrong, with secrets removed.
func (b *browser) pageText(resp *http.Response) string {
	page, err := html.Parse(io.LimitReader(resp.Body, maxPageSize))
	if err != nil {
		return ""
	}
	var parts []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (n.DataAtom == atom.Script || n.DataAtom == atom.Style || n.DataAtom == atom.Head) {
			return
		}
		if n.Type == html.TextNode {
			parts = append(parts, strings.Fields(n.Data)...)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(page)
	return excerpt(Redact(strings.Join(parts, " "), b.secrets...))
}

// submit posts the page's one form with the fields in set filled in and
// button pressed. The form must post, and to the page's own site: a login
// form that would put the password in a URL, or send it elsewhere, is
// refused.
func (b *browser) submit(ctx context.Context, step LoginStep, page *htmlPage, set map[string]string, button string) (*http.Response, error) {
	f := page.forms[0]
	switch {
	case f.action == nil:
		return nil, &LoginError{Step: step, Reason: ErrUnexpectedPage, Detail: "the form's action is not a valid URL"}
	case f.method != http.MethodPost:
		return nil, &LoginError{Step: step, Reason: ErrUnexpectedPage, Detail: "the form's method is " + f.method + ", not POST"}
	case !b.onConnectOrigin(f.action) || !b.onConnectOrigin(page.url):
		// The password goes to the connect origin only, never over
		// http when the connect URL is https.
		return nil, &LoginError{Step: step, Reason: ErrUnexpectedPage, Detail: "the form posts to another site (" + f.action.Scheme + "://" + f.action.Host + ")"}
	}
	return b.do(ctx, step, http.MethodPost, f.action.String(), f.values(set, button).Encode())
}

func (b *browser) log(ctx context.Context, msg string, step LoginStep, u *url.URL, kind pageKind) {
	if b.logger == nil || !b.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{slog.String("step", string(step))}
	if u != nil {
		// The path only: queries of ok.ru's pages may carry state.
		attrs = append(attrs, slog.String("page", u.Host+u.Path), slog.String("kind", kind.String()))
	}
	b.logger.LogAttrs(ctx, slog.LevelDebug, msg, attrs...)
}

func (k pageKind) String() string {
	switch k {
	case pageLogin:
		return "login"
	case pagePermissions:
		return "permissions"
	case pageCaptcha:
		return "captcha"
	}
	return "unknown"
}

// randomState makes the state that ties the redirect to this login.
func randomState() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// tokenFromFragment reads the implicit flow's token from the fragment of
// the redirect.
func tokenFromFragment(loc *url.URL, state string, now time.Time) (Token, error) {
	frag, err := url.ParseQuery(loc.EscapedFragment())
	if err != nil {
		return Token{}, &LoginError{Step: StepRedirect, Reason: ErrUnexpectedPage, Detail: "the fragment is not a query string"}
	}
	// ok.ru puts an error in the fragment; other servers put it in the query.
	for _, q := range []url.Values{frag, loc.Query()} {
		if err := redirectError(q); err != nil {
			return Token{}, err
		}
	}
	if err := checkState(frag, state); err != nil {
		return Token{}, err
	}
	for _, key := range []string{"access_token", "session_secret_key"} {
		if frag.Get(key) == "" {
			return Token{}, &LoginError{Step: StepRedirect, Reason: ErrMissingKey, Detail: key}
		}
	}
	t := Token{AccessToken: frag.Get("access_token"), SessionSecretKey: frag.Get("session_secret_key")}
	// ok.ru sends expires_in only for some tokens (FIDELITY.md); without
	// it the token's expiry is unknown, as for a zero expires_in.
	if raw := frag.Get("expires_in"); raw != "" {
		secs, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || secs < 0 {
			return Token{}, &LoginError{Step: StepRedirect, Reason: ErrUnexpectedPage, Detail: "expires_in is not a number of seconds"}
		}
		if secs > 0 {
			t.ExpiresAt = now.Add(time.Duration(secs) * time.Second)
		}
	}
	for p := range strings.FieldsFuncSeq(frag.Get("permissions_granted"), func(r rune) bool { return r == ';' || r == ',' }) {
		t.Permissions = append(t.Permissions, strings.TrimSpace(p))
	}
	return t, nil
}

// redirectError reads an OAuth error= from a redirect's parameters.
func redirectError(q url.Values) error {
	code := q.Get("error")
	if code == "" {
		return nil
	}
	reason := ErrAuthorization
	if code == "access_denied" {
		reason = ErrAccessDenied
	}
	return &LoginError{Step: StepRedirect, Reason: reason,
		Err: &OAuthError{Endpoint: "authorize", Code: code, Description: Redact(q.Get("error_description"))}}
}

func checkState(q url.Values, state string) error {
	switch got := q.Get("state"); {
	case got == "":
		return &LoginError{Step: StepRedirect, Reason: ErrMissingKey, Detail: "state"}
	case got != state:
		return &LoginError{Step: StepRedirect, Reason: ErrStateMismatch}
	}
	return nil
}
