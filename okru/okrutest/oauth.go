package okrutest

import (
	"context"
	"crypto/subtle"
	"fmt"
	"html/template"
	"iter"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/okru-run/okru-run/okru"
)

// The OAuth side of the sandbox, with ok.ru's paths, form actions and field
// names (DESIGN.md section 3):
//
//	GET  /oauth/authorize       validates the request (scopes read from the
//	                            raw query), then redirects to the login page
//	                            (st.redirect: the permissions URL), the
//	                            permissions page, or (once granted) straight
//	                            to redirect_uri
//	GET  /dk?st.cmd=OAuth2Login the login page: one POST form to
//	                            /dk?cmd=OAuth2Login&st.cmd=OAuth2Login with
//	                            fr.posted, fr.email, fr.password, fr.remember
//	                            (checked) and an unnamed submit input
//	GET  /dk?st.cmd=OAuth2Permissions
//	                            the permissions page: fr.posted, the CSRF
//	                            fr.token, a button_accept_request <button>
//	                            without value, and a cancel link to
//	                            redirect_uri#error=access_denied
//	GET  /blank.html            the blank page external apps redirect to
//	POST /oauth/token.do        the code and refresh grants
//	auth.login                  the old unsigned password login (fb.do)
//
// The browser is known by a cookie, as on ok.ru: a client without a cookie
// jar cannot get past the login page. Every change to a browser session is
// checked and made under one lock (withBrowser), so that requests racing
// on one cookie finish a pending authorization once. Tokens carry exactly the scopes the
// user granted.

const (
	browserCookie   = "JSESSIONID"
	loginCmd        = "OAuth2Login"
	permissionsCmd  = "OAuth2Permissions"
	codeLifetime    = 2 * time.Minute     // ok.ru's, for authorization codes
	refreshLifetime = 30 * 24 * time.Hour // ok.ru's, for refresh tokens
	// unlimitedExpiresIn is the expires_in of tokens that never expire
	// (Config.TokenTTL zero): the longest lifetime ok.ru gives, 30 days.
	unlimitedExpiresIn = 30 * 24 * 3600
	// maxBrowsers bounds the browser sessions kept; the oldest half is
	// dropped beyond it, so a long-running sandbox does not grow forever.
	maxBrowsers = 4096
	maxFormBody = 64 << 10
)

// authRequest is a validated authorize request, waiting for the login and
// the permissions.
type authRequest struct {
	responseType string
	redirectURI  string
	scopes       []string
	state        string
	query        string // the authorize query, to come back to after the login
}

// browserSession is what the sandbox knows of one browser (one cookie).
type browserSession struct {
	user    int32 // -1 until logged in
	pending *authRequest
	csrf    string // fr.token of the permissions form shown last
	created time.Time
}

type authCode struct {
	user        int32
	scopes      []string
	redirectURI string
	expires     time.Time
}

type refreshGrant struct {
	user    int32
	scopes  []string
	expires time.Time
}

// oauthState holds browser sessions, grants, codes and refresh tokens.
// Like issued tokens, they survive Reset.
type oauthState struct {
	mu       sync.Mutex
	browsers map[string]*browserSession
	grants   map[int32]map[string]bool // scopes each user granted the app
	codes    map[string]*authCode
	refresh  map[string]*refreshGrant
}

func init() {
	registerRoute("GET /oauth/authorize", func(s *Server) http.Handler { return http.HandlerFunc(s.serveAuthorize) })
	registerRoute("GET /dk", func(s *Server) http.Handler { return http.HandlerFunc(s.serveDK) })
	registerRoute("POST /dk", func(s *Server) http.Handler { return http.HandlerFunc(s.serveDK) })
	registerRoute("GET /blank.html", func(*Server) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte("<!DOCTYPE html>\n<html><head><title></title></head><body></body></html>\n"))
		})
	})
	registerRoute("POST /oauth/token.do", func(s *Server) http.Handler { return http.HandlerFunc(s.serveTokenDo) })
	registerMethod("auth.login", methodSpec{handle: authLogin, required: []string{"user_name", "password"},
		session: okru.SessionOptional, unsigned: true})
}

// serveAuthorize checks client_id and redirect_uri (errors there are
// pages: the sandbox cannot trust the redirect URI), then response_type
// and scope (errors there go to the redirect URI, as OAuth says). The
// official JS SDK sends scope=A;B with a plain ";" (see parseParams).
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := queryParams(r)
	if q.Get("client_id") != s.app.ID {
		s.errorPage(w, http.StatusBadRequest, "Invalid client_id: this sandbox has one application; use its App().ID.")
		return
	}
	req := &authRequest{responseType: q.Get("response_type"), redirectURI: q.Get("redirect_uri"), state: q.Get("state"), query: r.URL.RawQuery}
	if !s.allowedRedirect(req.redirectURI) {
		s.errorPage(w, http.StatusBadRequest, "redirect_uri is not registered for the application: use "+
			okru.DefaultRedirectURI+", "+s.URL+"/blank.html or a loopback http:// address.")
		return
	}
	if req.responseType != okru.ResponseTypeToken && req.responseType != okru.ResponseTypeCode {
		s.redirectError(w, req, "unsupported_response_type", "response_type must be token or code")
		return
	}
	scopes, err := parseScopes(q.Get("scope"))
	if err != nil {
		s.redirectError(w, req, "invalid_scope", err.Error())
		return
	}
	req.scopes = scopes
	_, b := s.browserFor(w, r)
	s.oauth.mu.Lock()
	b.pending, b.csrf = req, ""
	user := b.user
	granted := user >= 0 && s.oauth.grantedLocked(user, req.scopes)
	if granted {
		b.pending = nil
	}
	s.oauth.mu.Unlock()
	switch {
	case user < 0:
		redirect(w, s.loginURL(req))
	case granted:
		s.finish(w, req, user)
	default:
		redirect(w, s.permissionsURL(req))
	}
}

// permissionsURL is the permissions page's address with the st.*
// parameters ok.ru puts there (FIDELITY.md).
func (s *Server) permissionsURL(req *authRequest) string {
	return "/dk?st.cmd=" + permissionsCmd + "&st.layout=w" +
		"&st.scope=" + url.QueryEscape(strings.Join(req.scopes, ";")) +
		"&st.response_type=" + url.QueryEscape(req.responseType) +
		"&st.show_permissions=off" +
		"&st.redirect_uri=" + url.QueryEscape(req.redirectURI) +
		"&st.client_id=" + url.QueryEscape(s.app.ID)
}

// loginURL is the login page's address: as on ok.ru, st.redirect holds
// the permissions URL, URL-encoded twice.
func (s *Server) loginURL(req *authRequest) string {
	return "/dk?st.cmd=" + loginCmd + "&st.layout=w" +
		"&st.redirect=" + url.QueryEscape(url.QueryEscape(s.permissionsURL(req))) +
		"&st.client_id=" + url.QueryEscape(s.app.ID)
}

// splitAny splits s at every one of the bytes in seps, keeping empty parts.
func splitAny(s, seps string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for {
			i := strings.IndexAny(s, seps)
			if i < 0 {
				yield(s)
				return
			}
			if !yield(s[:i]) {
				return
			}
			s = s[i+1:]
		}
	}
}

// parseScopes reads a scope list as clients send it: names separated by
// ";" (ok.ru's own, raw or as %3B), "," or spaces. An empty list asks for
// no permission (aiookru's default); an empty name inside a list, an
// unknown name and a name given twice are errors that say so.
func parseScopes(raw string) ([]string, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	var out []string
	for part := range splitAny(raw, ";,") {
		names := strings.Fields(part)
		if len(names) == 0 {
			return nil, fmt.Errorf("the scope list %q has an empty name: separate names with one \";\"", raw)
		}
		for _, name := range names {
			switch {
			case !slices.Contains(Scopes, name):
				hint := ""
				if up := strings.ToUpper(name); slices.Contains(Scopes, up) {
					hint = " (names are upper-case: " + up + ")"
				}
				return nil, fmt.Errorf("unknown scope %q%s; known scopes: %s", name, hint, strings.Join(Scopes, ";"))
			case slices.Contains(out, name):
				return nil, fmt.Errorf("the scope %s is listed twice", name)
			}
			out = append(out, name)
		}
	}
	return out, nil
}

// allowedRedirect stands for the app's registered redirect URIs: ok.ru's
// blank page, the sandbox's own, and any loopback address for tests and
// local tools. As on ok.ru, the query is not compared.
func (s *Server) allowedRedirect(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Fragment != "" {
		return false
	}
	base := u.Scheme + "://" + u.Host + u.Path
	if base == okru.DefaultRedirectURI || base == s.URL+"/blank.html" {
		return true
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	return u.Scheme == "http" && (host == "localhost" || (ip != nil && ip.IsLoopback()))
}

// browserFor returns the browser session of the request's cookie, creating
// one (and setting the cookie) when there is none.
func (s *Server) browserFor(w http.ResponseWriter, r *http.Request) (string, *browserSession) {
	if id, b := s.browser(r); b != nil {
		return id, b
	}
	id := randomToken(32)
	b := &browserSession{user: -1, created: s.now()}
	s.oauth.mu.Lock()
	if s.oauth.browsers == nil {
		s.oauth.browsers = map[string]*browserSession{}
	}
	if len(s.oauth.browsers) >= maxBrowsers {
		s.oauth.dropOldBrowsersLocked()
	}
	s.oauth.browsers[id] = b
	s.oauth.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: browserCookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return id, b
}

// browser returns the browser session of the request's cookie, or nil.
func (s *Server) browser(r *http.Request) (string, *browserSession) {
	c, err := r.Cookie(browserCookie)
	if err != nil {
		return "", nil
	}
	s.oauth.mu.Lock()
	defer s.oauth.mu.Unlock()
	return c.Value, s.oauth.browsers[c.Value]
}

func (o *oauthState) dropOldBrowsersLocked() {
	times := make([]time.Time, 0, len(o.browsers))
	for _, b := range o.browsers {
		times = append(times, b.created)
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	cut := times[len(times)/2]
	for id, b := range o.browsers {
		if !b.created.After(cut) {
			delete(o.browsers, id)
		}
	}
}

func (o *oauthState) grantedLocked(user int32, scopes []string) bool {
	g := o.grants[user]
	for _, sc := range scopes {
		if !g[sc] {
			return false
		}
	}
	return true
}

// serveDK serves ok.ru's /dk pages, which st.cmd tells apart.
func (s *Server) serveDK(w http.ResponseWriter, r *http.Request) {
	post := r.Method == http.MethodPost
	switch cmd := queryParams(r).Get("st.cmd"); {
	case cmd == loginCmd && post:
		s.postLogin(w, r)
	case cmd == loginCmd:
		s.showLogin(w, r)
	case cmd == permissionsCmd && post:
		s.postPermissions(w, r)
	case cmd == permissionsCmd:
		s.showPermissions(w, r)
	default:
		s.errorPage(w, http.StatusNotFound, "No such page in the sandbox.")
	}
}

// withBrowser runs fn on the request's browser session with s.oauth.mu
// held, so that a check and the change it allows are one step even when
// many requests share a cookie. It reports false, after answering an
// error page, when there is no session with an authorize request waiting
// (and, with loggedIn, a logged-in user).
func (s *Server) withBrowser(w http.ResponseWriter, r *http.Request, loggedIn bool, fn func(b *browserSession)) bool {
	c, err := r.Cookie(browserCookie)
	ok := false
	if err == nil {
		s.oauth.mu.Lock()
		b := s.oauth.browsers[c.Value]
		if ok = b != nil && b.pending != nil && (!loggedIn || b.user >= 0); ok {
			func() {
				defer s.oauth.mu.Unlock()
				fn(b)
			}()
		} else {
			s.oauth.mu.Unlock()
		}
	}
	if !ok {
		s.errorPage(w, http.StatusBadRequest, "Your session has expired (no cookie or no authorization in progress): open the authorize URL again.")
	}
	return ok
}

func (s *Server) showLogin(w http.ResponseWriter, r *http.Request) {
	if s.withBrowser(w, r, false, func(*browserSession) {}) {
		s.page(w, http.StatusOK, loginPage, pageData{AppID: s.app.ID})
	}
}

func (s *Server) postLogin(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	if !s.withBrowser(w, r, false, func(*browserSession) {}) {
		return
	}
	if s.faults.loginCaptcha() {
		s.page(w, http.StatusOK, captchaPage, pageData{AppID: s.app.ID})
		return
	}
	email := strings.TrimSpace(form.Get("fr.email"))
	user, known := s.userByLogin(email)
	if !known || !s.passwordMatches(user, form.Get("fr.password")) {
		s.logger.Debug("oauth: wrong login or password")
		s.page(w, http.StatusOK, loginPage, pageData{AppID: s.app.ID, Email: email,
			Error: "Неправильно указан логин и/или пароль"})
		return
	}
	var back string
	if !s.withBrowser(w, r, false, func(b *browserSession) {
		b.user = user
		back = "/oauth/authorize?" + b.pending.query
	}) {
		return
	}
	redirect(w, back)
}

// readForm reads a posted form of the pages, which must say fr.posted=set
// as the pages' forms do.
func (s *Server) readForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	form, err := formParams(w, r, maxFormBody)
	if err != nil {
		s.errorPage(w, http.StatusBadRequest, "The form cannot be read: "+err.Error())
		return nil, false
	}
	if form.Get("fr.posted") != "set" {
		s.errorPage(w, http.StatusBadRequest, "The form was not posted as the page sent it: fr.posted is missing.")
		return nil, false
	}
	return form, true
}

func (s *Server) showPermissions(w http.ResponseWriter, r *http.Request) {
	csrf := randomToken(32) // ok.ru's fr.token has 32 characters
	var d pageData
	if !s.withBrowser(w, r, true, func(b *browserSession) {
		b.csrf = csrf
		d = pageData{AppID: s.app.ID, CSRF: csrf, Scopes: slices.Clone(b.pending.scopes),
			Cancel: cancelURL(b.pending), ChangeUser: s.loginURL(b.pending)}
	}) {
		return
	}
	s.page(w, http.StatusOK, permissionsPage, d)
}

// cancelURL is where the permissions page's cancel link goes: the
// redirect URI with error=access_denied in the fragment, as on ok.ru.
func cancelURL(req *authRequest) string {
	u, _ := url.Parse(req.redirectURI) // checked by allowedRedirect
	u.Fragment, u.RawFragment = "", ""
	return u.String() + "#error=access_denied"
}

func (s *Server) postPermissions(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	var (
		req      *authRequest
		user     int32
		csrfGood bool
	)
	if !s.withBrowser(w, r, true, func(b *browserSession) {
		want := b.csrf
		b.csrf = "" // one form, one post
		csrfGood = want != "" && subtle.ConstantTimeCompare([]byte(form.Get("fr.token")), []byte(want)) == 1
		if !csrfGood || !form.Has("button_accept_request") {
			return
		}
		req, user = b.pending, b.user
		b.pending = nil
		s.oauth.grantLocked(user, req.scopes)
	}) {
		return
	}
	switch {
	case !csrfGood:
		s.errorPage(w, http.StatusForbidden, "The form has expired (fr.token does not match): open the authorize URL again.")
	case req == nil:
		s.errorPage(w, http.StatusBadRequest, "Press button_accept_request to allow, or follow the cancel link to refuse.")
	default:
		s.finish(w, req, user)
	}
}

func (o *oauthState) grantLocked(user int32, scopes []string) {
	if o.grants == nil {
		o.grants = map[int32]map[string]bool{}
	}
	g := o.grants[user]
	if g == nil {
		g = map[string]bool{}
		o.grants[user] = g
	}
	for _, sc := range scopes {
		g[sc] = true
	}
}

// finish ends a granted authorization: a token in the fragment of the
// redirect (implicit flow) or a code in its query (code flow). req has
// been taken from its browser session already, so it finishes once.
func (s *Server) finish(w http.ResponseWriter, req *authRequest, user int32) {
	if req.responseType == okru.ResponseTypeCode {
		code := randomToken(32)
		s.oauth.mu.Lock()
		if s.oauth.codes == nil {
			s.oauth.codes = map[string]*authCode{}
		}
		now := s.now()
		for c, ac := range s.oauth.codes {
			if now.After(ac.expires) {
				delete(s.oauth.codes, c)
			}
		}
		s.oauth.codes[code] = &authCode{user: user, scopes: req.scopes, redirectURI: req.redirectURI, expires: now.Add(codeLifetime)}
		s.oauth.mu.Unlock()
		s.redirectWith(w, req, url.Values{"code": {code}})
		return
	}
	t := s.issue(user, req.scopes)
	s.redirectWith(w, req, url.Values{
		"access_token":        {t.AccessToken},
		"session_secret_key":  {t.SessionSecretKey},
		"expires_in":          {strconv.FormatInt(s.expiresIn(t), 10)},
		"permissions_granted": {strings.Join(req.scopes, ";")},
	})
}

// expiresIn is a token's remaining lifetime in seconds.
func (s *Server) expiresIn(t Token) int64 {
	if t.ExpiresAt.IsZero() {
		return unlimitedExpiresIn
	}
	return max(0, int64(t.ExpiresAt.Sub(s.now())/time.Second))
}

// redirectWith sends the browser to the redirect URI with v (and the
// state): in the fragment for the implicit flow, in the query for the code
// flow.
func (s *Server) redirectWith(w http.ResponseWriter, req *authRequest, v url.Values) {
	if req.state != "" {
		v.Set("state", req.state)
	}
	u, _ := url.Parse(req.redirectURI) // checked by allowedRedirect
	if req.responseType == okru.ResponseTypeToken {
		u.Fragment, u.RawFragment = "", ""
		redirect(w, u.String()+"#"+v.Encode())
		return
	}
	q := u.Query()
	for k, vs := range v {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	redirect(w, u.String())
}

// redirectError sends an OAuth error to the redirect URI. ok.ru puts it in
// the fragment for the implicit flow and in the query otherwise.
func (s *Server) redirectError(w http.ResponseWriter, req *authRequest, code, description string) {
	s.redirectWith(w, req, url.Values{"error": {code}, "error_description": {description}})
}

// redirect answers 302 with the Location as given: http.Redirect would
// clean the path of relative targets.
func redirect(w http.ResponseWriter, location string) {
	w.Header().Set("Location", location)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}

// userByLogin maps a login of the login form or auth.login to a user:
// demo@sandbox.ok, or userN@sandbox.ok for the user at index N (User.Login).
func (s *Server) userByLogin(login string) (int32, bool) {
	login = strings.ToLower(strings.TrimSpace(login))
	if login == "demo@sandbox.ok" {
		return demoIndex, true
	}
	rest, ok := strings.CutPrefix(login, "user")
	if !ok {
		return 0, false
	}
	num, ok := strings.CutSuffix(rest, "@sandbox.ok")
	n, err := strconv.Atoi(num)
	if !ok || err != nil || strconv.Itoa(n) != num || n == demoIndex || n < 0 || n >= len(s.graph.users) {
		return 0, false
	}
	return int32(n), true
}

func (s *Server) passwordMatches(user int32, password string) bool {
	return subtle.ConstantTimeCompare([]byte(s.user(user).Password), []byte(password)) == 1
}

// serveTokenDo answers the code and refresh grants with a token, or with
// {"error", "error_description"}: 401 for a wrong client, 400 otherwise.
func (s *Server) serveTokenDo(w http.ResponseWriter, r *http.Request) {
	f, err := requestParams(w, r, maxFormBody)
	if err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "cannot read the form: "+err.Error())
		return
	}
	if f.Get("client_id") != s.app.ID || subtle.ConstantTimeCompare([]byte(f.Get("client_secret")), []byte(s.app.SecretKey)) != 1 {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client_id or client_secret is wrong")
		return
	}
	var user int32
	var scopes []string
	newRefresh := false
	switch grant := f.Get("grant_type"); grant {
	case "authorization_code":
		code := f.Get("code")
		if code == "" {
			oauthError(w, http.StatusBadRequest, "invalid_request", "code is missing")
			return
		}
		s.oauth.mu.Lock()
		ac := s.oauth.codes[code]
		delete(s.oauth.codes, code) // single use, even when the exchange fails
		s.oauth.mu.Unlock()
		switch {
		case ac == nil || s.now().After(ac.expires):
			oauthError(w, http.StatusBadRequest, "invalid_grant", "the code is unknown, already used or expired")
			return
		case f.Get("redirect_uri") != ac.redirectURI:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri differs from the one the code was issued for")
			return
		}
		user, scopes, newRefresh = ac.user, ac.scopes, true
	case "refresh_token":
		s.oauth.mu.Lock()
		rg := s.oauth.refresh[f.Get("refresh_token")]
		s.oauth.mu.Unlock()
		if rg == nil || s.now().After(rg.expires) {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "the refresh token is unknown or expired")
			return
		}
		user, scopes = rg.user, rg.scopes
	case "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "grant_type is missing")
		return
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
		return
	}
	t := s.issue(user, scopes)
	answer := map[string]any{"access_token": t.AccessToken, "token_type": "session", "expires_in": s.expiresIn(t)}
	if newRefresh {
		rt := randomToken(48)
		s.oauth.mu.Lock()
		if s.oauth.refresh == nil {
			s.oauth.refresh = map[string]*refreshGrant{}
		}
		s.oauth.refresh[rt] = &refreshGrant{user: user, scopes: scopes, expires: s.now().Add(refreshLifetime)}
		s.oauth.mu.Unlock()
		answer["refresh_token"] = rt
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, answer)
}

func oauthError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

// authLogin is the old password login: user_name and password give a
// session key (an access token) with every scope, and its session secret
// key.
func authLogin(_ context.Context, inv *invocation) (any, error) {
	s := inv.srv
	if s.faults.loginCaptcha() {
		return nil, errorf(okru.CodeAuthLoginCaptcha, "Captcha required: log in through the web page first")
	}
	user, known := s.userByLogin(inv.param("user_name"))
	if !known || !s.passwordMatches(user, inv.param("password")) {
		return nil, errorf(okru.CodeAuthLogin, "Invalid login or password")
	}
	t := s.issue(user, Scopes)
	return map[string]any{
		"uid": t.UID, "session_key": t.AccessToken, "session_secret_key": t.SessionSecretKey,
		"api_server": s.URL + "/",
	}, nil
}

// pageData fills the page templates.
type pageData struct {
	AppID  string
	Email  string
	Error  string
	CSRF   string
	Scopes []string
	Status int
	Text   string
	// Cancel and ChangeUser are the permissions page's links.
	Cancel, ChangeUser string
}

func (s *Server) page(w http.ResponseWriter, status int, t *template.Template, d pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := t.Execute(w, d); err != nil {
		s.logger.Warn("oauth: render page", "err", err)
	}
}

// errorPage answers a page without any form, as ok.ru does for requests it
// cannot go on with.
func (s *Server) errorPage(w http.ResponseWriter, status int, text string) {
	s.page(w, status, errorPageTmpl, pageData{Status: status, Text: text})
}

var (
	// The pages follow the structure of ok.ru's (FIDELITY.md): the login
	// form's submit <input> has no name and fr.remember is checked; the
	// permissions form accepts with a <button> without a value, and
	// refusing is a link to the redirect URI, not a form field.
	loginPage = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>Одноклассники</title></head>
<body class="oauth">
<div class="oauth-header">Приложение {{.AppID}} запрашивает вход через ОК (sandbox)</div>
{{if .Error}}<div class="input-e login_error">{{.Error}}</div>
{{end}}<form action="/dk?cmd=OAuth2Login&amp;st.cmd=OAuth2Login" method="post" class="form" id="loginForm">
<input type="hidden" name="fr.posted" value="set">
<label>Логин, адрес почты или телефон <input type="text" name="fr.email" value="{{.Email}}" autocomplete="username"></label>
<label>Пароль <input type="password" name="fr.password" value="" autocomplete="current-password"></label>
<label><input type="checkbox" name="fr.remember" value="on" checked> Запомнить меня</label>
<input type="submit" class="button-pro" value="Войти">
</form>
<a href="/dk?st.cmd=anonymRecoveryStartPhoneLink">Не помню пароль</a>
</body></html>
`))
	captchaPage = template.Must(template.New("captcha").Parse(`<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>Одноклассники</title></head>
<body class="oauth">
<div class="oauth-header">Подтвердите, что вы не робот</div>
<form action="/dk?cmd=OAuth2Login&amp;st.cmd=OAuth2Login" method="post" class="form">
<input type="hidden" name="fr.posted" value="set">
<img src="/captcha.png" alt="captcha" id="captchaImage">
<label>Код с картинки <input type="text" name="fr.captcha" value=""></label>
<input type="submit" class="button-pro" value="Продолжить">
</form>
</body></html>
`))
	permissionsPage = template.Must(template.New("permissions").Parse(`<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>Одноклассники</title></head>
<body class="oauth">
<div class="oauth-header">Приложение {{.AppID}} запрашивает доступ</div>
<ul class="permissions">{{range .Scopes}}<li>{{.}}</li>{{end}}</ul>
<form action="/dk?st.cmd=OAuth2Permissions&amp;cmd=OAuth2Permissions" method="POST" class="form">
<input type="hidden" name="fr.posted" value="set">
<input type="hidden" name="fr.token" value="{{.CSRF}}">
<button class="button-pro" name="button_accept_request">Разрешить</button>
<a class="button-pro __sec" href="{{.Cancel}}">Не разрешать</a>
</form>
<a class="oauth-change-user" href="{{.ChangeUser}}">Войти как другой пользователь</a>
</body></html>
`))
	errorPageTmpl = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>Ошибка</title></head>
<body><h1>Ошибка {{.Status}}</h1><p class="error">{{.Text}}</p></body></html>
`))
)
