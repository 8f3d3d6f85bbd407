package okrutest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/okru-run/okru-run/okru"
)

// browser is a plain net/http client with cookies that follows redirects
// inside the sandbox and stops at any other address, so tests can read
// the Location carrying the token or the code.
type browser struct {
	t   *testing.T
	s   *Server
	hc  *http.Client
	jar http.CookieJar
}

func newBrowser(t *testing.T, s *Server) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, s: s, jar: jar}
	b.hc = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if !strings.HasPrefix(req.URL.String(), s.URL+"/") || req.URL.Path == "/blank.html" {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

// webPage is one answer as a browser sees it.
type webPage struct {
	status   int
	location string // of a redirect the browser stopped at
	url      *url.URL
	body     string
	forms    []pageForm
}

type pageForm struct {
	action, method string
	inputs         map[string]string // name -> type
	values         url.Values        // hidden inputs
}

func (b *browser) get(rawURL string) webPage {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), http.MethodGet, rawURL, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) webPage {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), http.MethodPost, b.s.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) do(req *http.Request) webPage {
	b.t.Helper()
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	p := webPage{status: resp.StatusCode, location: resp.Header.Get("Location"), url: resp.Request.URL, body: string(body)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		p.forms = parseForms(b.t, string(body))
	}
	return p
}

// parseForms reads the forms of a page with an HTML parser.
func parseForms(t *testing.T, body string) []pageForm {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var forms []pageForm
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			a := map[string]string{}
			for _, at := range n.Attr {
				a[at.Key] = at.Val
			}
			switch n.Data {
			case "form":
				forms = append(forms, pageForm{action: a["action"], method: a["method"], inputs: map[string]string{}, values: url.Values{}})
			case "input", "button":
				if f := len(forms) - 1; f >= 0 && a["name"] != "" {
					typ := a["type"]
					if typ == "" {
						typ = n.Data
					}
					forms[f].inputs[a["name"]] = typ
					if typ == "hidden" {
						forms[f].values.Set(a["name"], a["value"])
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return forms
}

// authorizeURL builds an authorize URL of the sandbox's app.
func authorizeURL(s *Server, responseType, redirectURI, state string, scopes ...string) string {
	return s.URL + "/oauth/authorize?" + url.Values{
		"client_id": {s.app.ID}, "scope": {strings.Join(scopes, ";")}, "response_type": {responseType},
		"redirect_uri": {redirectURI}, "layout": {"w"}, "state": {state},
	}.Encode()
}

// fragmentOf parses the fragment of a redirect's Location.
func fragmentOf(t *testing.T, location string) url.Values {
	t.Helper()
	u, err := url.Parse(location)
	if err != nil {
		t.Fatal(err)
	}
	v, err := url.ParseQuery(u.EscapedFragment())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func loginForm(email, password string) url.Values {
	return url.Values{"fr.posted": {"set"}, "fr.email": {email}, "fr.password": {password}, "fr.remember": {"on"}}
}

// TestOAuthPages walks the implicit flow with a plain HTTP client: the
// login page, a wrong password, the permissions page and its CSRF token,
// the fragment, the grant remembered by the cookie, and a refusal.
func TestOAuthPages(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 40})
	demo := s.DemoUser()
	blank := s.URL + "/blank.html"
	b := newBrowser(t, s)

	p := b.get(authorizeURL(s, "token", blank, "st-1", "VALUABLE_ACCESS", "PHOTO_CONTENT"))
	if p.status != http.StatusOK || p.url.Path != "/dk" || p.url.Query().Get("st.cmd") != "OAuth2Login" || len(p.forms) != 1 {
		t.Fatalf("authorize led to %d %s with %d forms:\n%s", p.status, p.url, len(p.forms), p.body)
	}
	f := p.forms[0]
	wantInputs := map[string]string{"fr.posted": "hidden", "fr.email": "text", "fr.password": "password", "fr.remember": "checkbox"}
	if !strings.Contains(p.body, `name="fr.remember" value="on" checked`) {
		t.Errorf("fr.remember is not checked:\n%s", p.body)
	}
	login := p.url.Query()
	perm, err := url.QueryUnescape(login.Get("st.redirect"))
	if login.Get("st.layout") != "w" || login.Get("st.client_id") != s.app.ID || err != nil ||
		!strings.HasPrefix(perm, "/dk?st.cmd=OAuth2Permissions&st.layout=w&st.scope=VALUABLE_ACCESS%3BPHOTO_CONTENT&st.response_type=token&st.show_permissions=off&st.redirect_uri=") {
		t.Errorf("login URL %s: st.redirect %q is not the permissions URL encoded twice", p.url, perm)
	}
	if f.action != "/dk?cmd=OAuth2Login&st.cmd=OAuth2Login" || f.method != "post" || !mapsEqual(f.inputs, wantInputs) || f.values.Get("fr.posted") != "set" {
		t.Fatalf("login form %+v", f)
	}
	if cookies := b.jar.Cookies(p.url); len(cookies) != 1 || cookies[0].Name != "JSESSIONID" {
		t.Fatalf("cookies %v, want the browser's JSESSIONID", cookies)
	}

	p = b.post(f.action, loginForm(demo.Login, "wrong-"+demo.Password))
	if p.status != http.StatusOK || len(p.forms) != 1 || p.forms[0].inputs["fr.password"] != "password" || !strings.Contains(p.body, "Неправильно") {
		t.Fatalf("a wrong password gave %d:\n%s", p.status, p.body)
	}
	if strings.Contains(p.body, demo.Password) {
		t.Error("the login page shows the password")
	}

	p = b.post(f.action, loginForm(strings.ToUpper(demo.Login), demo.Password))
	if p.status != http.StatusOK || p.url.Query().Get("st.cmd") != "OAuth2Permissions" || len(p.forms) != 1 {
		t.Fatalf("the login led to %d %s:\n%s", p.status, p.url, p.body)
	}
	perms := p.forms[0]
	if perms.action != "/dk?st.cmd=OAuth2Permissions&cmd=OAuth2Permissions" || perms.method != "POST" || len(perms.values.Get("fr.token")) != 32 ||
		perms.inputs["button_accept_request"] != "button" || perms.inputs["button_reject_request"] != "" ||
		!strings.Contains(p.body, "PHOTO_CONTENT") || !strings.Contains(p.body, `href="`+blank+`#error=access_denied"`) {
		t.Fatalf("permissions form %+v:\n%s", perms, p.body)
	}

	forged := url.Values{"fr.posted": {"set"}, "fr.token": {"forged"}, "button_accept_request": {"1"}}
	if p = b.post(perms.action, forged); p.status != http.StatusForbidden || len(p.forms) != 0 {
		t.Fatalf("a forged fr.token gave %d:\n%s", p.status, p.body)
	}
	// The CSRF token was spent by the forged post: the page gives a new one.
	p = b.get(s.URL + "/dk?st.cmd=OAuth2Permissions")
	accept := p.forms[0].values
	accept.Set("button_accept_request", "Разрешить")
	p = b.post(perms.action, accept)
	frag := fragmentOf(t, p.location)
	if p.status != http.StatusFound || !strings.HasPrefix(p.location, blank+"#") || frag.Get("state") != "st-1" ||
		frag.Get("permissions_granted") != "VALUABLE_ACCESS;PHOTO_CONTENT" || frag.Get("expires_in") != "2592000" {
		t.Fatalf("accepting gave %d %q", p.status, p.location)
	}
	tok := Token{AccessToken: frag.Get("access_token"), SessionSecretKey: frag.Get("session_secret_key")}
	c := tokenCaller(s, tok, circuitClient)
	if uid := result[string](t, c, "users.getLoggedInUser", nil); uid != demo.UID {
		t.Errorf("the token belongs to %s", uid)
	}
	checkErrorAnswer(t, c.call(t, "mediatopic.post", map[string]string{"gid": "1"}), okru.CodePermissionDenied, "GROUP_CONTENT")

	// Granted once, the same scopes go straight to the redirect URI.
	p = b.get(authorizeURL(s, "token", blank, "st-2", "PHOTO_CONTENT"))
	if frag := fragmentOf(t, p.location); p.status != http.StatusFound || frag.Get("access_token") == "" || frag.Get("state") != "st-2" {
		t.Fatalf("a granted authorize gave %d %q", p.status, p.location)
	}
	// A new scope asks again; a post without the accept button is no
	// answer (refusing is the cancel link, which never reaches the server).
	p = b.get(authorizeURL(s, "token", blank, "st-3", "GET_EMAIL"))
	if !strings.Contains(p.body, `href="`+blank+`#error=access_denied"`) {
		t.Errorf("no cancel link to the redirect URI:\n%s", p.body)
	}
	if p = b.post(perms.action, p.forms[0].values); p.status != http.StatusBadRequest || !strings.Contains(p.body, "cancel link") {
		t.Errorf("a post without the accept button gave %d:\n%s", p.status, p.body)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestOAuthAuthorizeChecks(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 41})
	blank := s.URL + "/blank.html"
	tests := []struct {
		name     string
		url      string
		status   int
		location string // a prefix
		errCode  string // error= in the fragment or query
		text     string
	}{
		{name: "unknown app", url: strings.Replace(authorizeURL(s, "token", blank, "x"), "client_id="+s.app.ID, "client_id=42", 1),
			status: http.StatusBadRequest, text: "client_id"},
		{name: "foreign redirect URI", url: authorizeURL(s, "token", "https://example.com/cb", "x"), status: http.StatusBadRequest, text: "redirect_uri"},
		{name: "redirect URI with a fragment", url: authorizeURL(s, "token", blank+"#x", "x"), status: http.StatusBadRequest, text: "redirect_uri"},
		{name: "unknown response type", url: authorizeURL(s, "id_token", blank, "x"), status: http.StatusFound, location: blank + "?", errCode: "unsupported_response_type"},
		{name: "unknown scope", url: authorizeURL(s, "token", blank, "x", "VALUABLE_ACCESS", "EVERYTHING"), status: http.StatusFound, location: blank + "#", errCode: "invalid_scope"},
		{name: "ok.ru's blank page", url: authorizeURL(s, "token", okru.DefaultRedirectURI, "x"), status: http.StatusFound, location: "/dk?st.cmd=OAuth2Login"},
		{name: "a loopback redirect URI", url: authorizeURL(s, "code", "http://localhost:8123/cb?app=1", "x"), status: http.StatusFound, location: "/dk?st.cmd=OAuth2Login"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, tt.url, nil)
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			loc := resp.Header.Get("Location")
			if resp.StatusCode != tt.status || !strings.HasPrefix(loc, tt.location) || !strings.Contains(string(body), tt.text) {
				t.Fatalf("%d %q:\n%s", resp.StatusCode, loc, body)
			}
			if tt.status == http.StatusBadRequest && len(parseForms(t, string(body))) != 0 {
				t.Error("an error page has a form")
			}
			if tt.errCode != "" {
				u, _ := url.Parse(loc)
				if fragmentOf(t, loc).Get("error") != tt.errCode && u.Query().Get("error") != tt.errCode {
					t.Errorf("Location %q, want error=%s", loc, tt.errCode)
				}
			}
		})
	}
}

// TestOAuthPagesNeedCookies: the forms work only in the browser that
// opened the authorize URL, and only as the pages send them.
func TestOAuthPagesNeedCookies(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 42})
	demo := s.DemoUser()
	fresh := newBrowser(t, s)
	if p := fresh.post("/dk?cmd=OAuth2Login&st.cmd=OAuth2Login", loginForm(demo.Login, demo.Password)); p.status != http.StatusBadRequest || len(p.forms) != 0 {
		t.Errorf("a login without the cookie gave %d:\n%s", p.status, p.body)
	}
	if p := fresh.get(s.URL + "/dk?st.cmd=OAuth2Permissions"); p.status != http.StatusBadRequest {
		t.Errorf("permissions without a login gave %d", p.status)
	}
	b := newBrowser(t, s)
	b.get(authorizeURL(s, "token", s.URL+"/blank.html", "x"))
	form := loginForm(demo.Login, demo.Password)
	form.Del("fr.posted")
	if p := b.post("/dk?cmd=OAuth2Login&st.cmd=OAuth2Login", form); p.status != http.StatusBadRequest || !strings.Contains(p.body, "fr.posted") {
		t.Errorf("a form without fr.posted gave %d:\n%s", p.status, p.body)
	}
	if p := b.get(s.URL + "/dk?st.cmd=Nothing"); p.status != http.StatusNotFound {
		t.Errorf("an unknown page gave %d", p.status)
	}
	if p := b.get(s.URL + "/blank.html"); p.status != http.StatusOK || len(p.forms) != 0 {
		t.Errorf("blank.html gave %d", p.status)
	}
}

func TestLoginCaptchaFault(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 43})
	demo := s.DemoUser()
	if a := control(t, s, http.MethodPost, "faults", `{"login_captcha":true}`); a.status != http.StatusOK || !s.Faults().LoginCaptcha {
		t.Fatalf("POST faults: %d %s", a.status, a.body)
	}
	b := newBrowser(t, s)
	b.get(authorizeURL(s, "token", s.URL+"/blank.html", "x"))
	p := b.post("/dk?cmd=OAuth2Login&st.cmd=OAuth2Login", loginForm(demo.Login, demo.Password))
	if p.status != http.StatusOK || len(p.forms) != 1 || p.forms[0].inputs["fr.captcha"] == "" || !strings.Contains(p.body, "captcha") {
		t.Fatalf("with the captcha fault the login gave %d:\n%s", p.status, p.body)
	}
	a := unsignedLogin(t, s, demo.Login, demo.Password)
	checkErrorAnswer(t, a, okru.CodeAuthLoginCaptcha, "Captcha")

	// Reset lifts the fault; the login (asking for no scope) goes through.
	s.Reset()
	if p := b.post("/dk?cmd=OAuth2Login&st.cmd=OAuth2Login", loginForm(demo.Login, demo.Password)); fragmentOf(t, p.location).Get("access_token") == "" {
		t.Errorf("after Reset the login gave %d %q", p.status, p.location)
	}
}

// TestCodeFlowAndTokenDo: the code flow with a loopback redirect URI, then
// every answer of oauth/token.do.
func TestCodeFlowAndTokenDo(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := newTestServer(t, Config{Seed: 44, Now: clock.Now, TokenTTL: 30 * time.Minute})
	demo := s.DemoUser()
	const redirectURI = "http://127.0.0.1:8123/cb?app=1"
	b := newBrowser(t, s)
	code := func() string {
		t.Helper()
		p := b.get(authorizeURL(s, "code", redirectURI, "st", "VALUABLE_ACCESS"))
		if len(p.forms) == 1 && p.forms[0].inputs["fr.email"] != "" {
			p = b.post(p.forms[0].action, loginForm(demo.Login, demo.Password))
		}
		if len(p.forms) == 1 {
			v := p.forms[0].values
			v.Set("button_accept_request", "1")
			p = b.post(p.forms[0].action, v)
		}
		u, err := url.Parse(p.location)
		if err != nil || !strings.HasPrefix(p.location, "http://127.0.0.1:8123/cb?") || u.Query().Get("app") != "1" || u.Query().Get("state") != "st" || u.Fragment != "" {
			t.Fatalf("the code flow ended at %d %q", p.status, p.location)
		}
		return u.Query().Get("code")
	}
	tokenDo := func(form url.Values) (int, map[string]any) {
		t.Helper()
		a := do(t, mustRequest(t, http.MethodPost, s.URL+"/oauth/token.do", form))
		var out map[string]any
		if err := json.Unmarshal(a.body, &out); err != nil || a.header.Get("Content-Type") != jsonContentType {
			t.Fatalf("token.do answered %d %q: %s", a.status, a.header.Get("Content-Type"), a.body)
		}
		return a.status, out
	}
	grant := func(grantType string, kv ...string) url.Values {
		v := url.Values{"client_id": {s.app.ID}, "client_secret": {s.app.SecretKey}, "grant_type": {grantType}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}

	good := code()
	status, tok := tokenDo(grant("authorization_code", "code", good, "redirect_uri", redirectURI))
	if status != http.StatusOK || tok["token_type"] != "session" || tok["expires_in"] != float64(1800) || tok["refresh_token"] == nil || tok["access_token"] == nil {
		t.Fatalf("exchange: %d %v", status, tok)
	}
	access, refresh := tok["access_token"].(string), tok["refresh_token"].(string)
	server := caller{url: s.URL, app: s.app, circuit: circuitServer, token: access}
	if uid := result[string](t, server, "users.getLoggedInUser", nil); uid != demo.UID {
		t.Errorf("the code token belongs to %s", uid)
	}

	stale := code()
	clock.Add(2*time.Minute + time.Second)
	mismatched := code()
	tests := []struct {
		name   string
		form   url.Values
		status int
		code   string
	}{
		{"wrong secret", url.Values{"client_id": {s.app.ID}, "client_secret": {"nope"}, "grant_type": {"authorization_code"}, "code": {good}}, 401, "invalid_client"},
		{"wrong client", url.Values{"client_id": {"1"}, "client_secret": {s.app.SecretKey}, "grant_type": {"refresh_token"}}, 401, "invalid_client"},
		{"no grant type", grant(""), 400, "invalid_request"},
		{"unknown grant type", grant("password"), 400, "unsupported_grant_type"},
		{"no code", grant("authorization_code", "redirect_uri", redirectURI), 400, "invalid_request"},
		{"code used twice", grant("authorization_code", "code", good, "redirect_uri", redirectURI), 400, "invalid_grant"},
		{"expired code", grant("authorization_code", "code", stale, "redirect_uri", redirectURI), 400, "invalid_grant"},
		{"another redirect URI", grant("authorization_code", "code", mismatched, "redirect_uri", "http://127.0.0.1:8123/other"), 400, "invalid_grant"},
		{"code spent by the failed exchange", grant("authorization_code", "code", mismatched, "redirect_uri", redirectURI), 400, "invalid_grant"},
		{"unknown refresh token", grant("refresh_token", "refresh_token", "nope"), 400, "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := tokenDo(tt.form)
			if status != tt.status || out["error"] != tt.code || out["error_description"] == "" || out["access_token"] != nil {
				t.Errorf("%d %v, want %d %s", status, out, tt.status, tt.code)
			}
		})
	}

	// The access token expires; the refresh token gives a new one with the
	// same scopes, and no new refresh token.
	clock.Add(30 * time.Minute)
	checkErrorAnswer(t, server.call(t, "users.getLoggedInUser", nil), okru.CodeParamSessionExpired, "")
	status, fresh := tokenDo(grant("refresh_token", "refresh_token", refresh))
	if status != http.StatusOK || fresh["access_token"] == access || fresh["refresh_token"] != nil {
		t.Fatalf("refresh: %d %v", status, fresh)
	}
	server.token = fresh["access_token"].(string)
	if uid := result[string](t, server, "users.getLoggedInUser", nil); uid != demo.UID {
		t.Errorf("the refreshed token belongs to %s", uid)
	}
	checkErrorAnswer(t, server.call(t, "mediatopic.post", map[string]string{"gid": "1"}), okru.CodePermissionDenied, "GROUP_CONTENT")

	if a := do(t, mustRequest(t, http.MethodGet, s.URL+"/oauth/token.do", nil)); a.status != http.StatusMethodNotAllowed {
		t.Errorf("GET token.do: %d", a.status)
	}
}

func mustRequest(t *testing.T, method, target string, form url.Values) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, target, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return req
}

// unsignedLogin calls auth.login as old clients do: no sig, no token.
func unsignedLogin(t *testing.T, s *Server, login, password string) answer {
	t.Helper()
	form := url.Values{"method": {"auth.login"}, "application_key": {s.app.Key}, "format": {"json"}}
	if login != "" {
		form.Set("user_name", login)
	}
	if password != "" {
		form.Set("password", password)
	}
	return do(t, mustRequest(t, http.MethodPost, s.URL+"/fb.do", form))
}

func TestAuthLogin(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 45})
	demo := s.DemoUser()
	var got struct {
		UID              string `json:"uid"`
		SessionKey       string `json:"session_key"`
		SessionSecretKey string `json:"session_secret_key"`
		APIServer        string `json:"api_server"`
	}
	unsignedLogin(t, s, demo.Login, demo.Password).decode(t, &got)
	if got.UID != demo.UID || got.SessionKey == "" || got.SessionSecretKey == "" || got.APIServer != s.URL+"/" {
		t.Fatalf("auth.login answered %+v", got)
	}
	c := tokenCaller(s, Token{AccessToken: got.SessionKey, SessionSecretKey: got.SessionSecretKey}, circuitClient)
	if uid := result[string](t, c, "users.getLoggedInUser", nil); uid != demo.UID {
		t.Errorf("the session key belongs to %s", uid)
	}
	checkErrorAnswer(t, unsignedLogin(t, s, demo.Login, "wrong"), okru.CodeAuthLogin, "Invalid login or password")
	checkErrorAnswer(t, unsignedLogin(t, s, "user1@sandbox.ok", demo.Password), okru.CodeAuthLogin, "")
	checkErrorAnswer(t, unsignedLogin(t, s, "user01@sandbox.ok", "x"), okru.CodeAuthLogin, "")
	checkErrorAnswer(t, unsignedLogin(t, s, demo.Login, ""), okru.CodeParam, "password")
	for _, call := range s.Calls() {
		if call.Method != "auth.login" {
			continue
		}
		if _, leaked := call.Params["password"]; leaked || call.Circuit != circuitUnsigned {
			t.Errorf("logged %+v", call)
		}
	}
	// Another user logs in with the password User reports.
	other := s.user(7)
	unsignedLogin(t, s, other.Login, other.Password).decode(t, &got)
	if got.UID != other.UID || other.Login != "user7@sandbox.ok" {
		t.Errorf("user 7 (%s) logged in as %s", other.Login, got.UID)
	}
}

// TestOAuthScopeLists: the authorize page reads the scope list from the
// raw query, separated as clients send it, and refuses bad lists with an
// error that names the problem.
func TestOAuthScopeLists(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 46})
	blank := url.QueryEscape(s.URL + "/blank.html")
	tests := []struct {
		name, scope string
		want        string // st.scope of the permissions URL
		errText     string // in error_description
	}{
		{name: "raw semicolons (the JS SDK)", scope: "VALUABLE_ACCESS;LONG_ACCESS_TOKEN", want: "VALUABLE_ACCESS;LONG_ACCESS_TOKEN"},
		{name: "escaped semicolons", scope: "VALUABLE_ACCESS%3BPHOTO_CONTENT", want: "VALUABLE_ACCESS;PHOTO_CONTENT"},
		{name: "commas", scope: "VALUABLE_ACCESS,GET_EMAIL", want: "VALUABLE_ACCESS;GET_EMAIL"},
		{name: "spaces", scope: "VALUABLE_ACCESS+GET_EMAIL%20SET_STATUS", want: "VALUABLE_ACCESS;GET_EMAIL;SET_STATUS"},
		{name: "comma and space", scope: "VALUABLE_ACCESS,%20GET_EMAIL", want: "VALUABLE_ACCESS;GET_EMAIL"},
		{name: "no scope (aiookru's default)", scope: "", want: ""},
		{name: "unknown name", scope: "VALUABLE_ACCESS;EVERYTHING", errText: `unknown scope "EVERYTHING"`},
		{name: "lower case", scope: "valuable_access", errText: "names are upper-case: VALUABLE_ACCESS"},
		{name: "empty name", scope: "VALUABLE_ACCESS;;GET_EMAIL", errText: "empty name"},
		{name: "trailing separator", scope: "VALUABLE_ACCESS;", errText: "empty name"},
		{name: "duplicate", scope: "GET_EMAIL;VALUABLE_ACCESS,GET_EMAIL", errText: "GET_EMAIL is listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			raw := s.URL + "/oauth/authorize?client_id=" + s.app.ID + "&scope=" + tt.scope +
				"&response_type=token&redirect_uri=" + blank + "&layout=w&state=x"
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, raw, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			loc, err := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusFound || err != nil {
				t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			if tt.errText != "" {
				frag := fragmentOf(t, loc.String())
				if frag.Get("error") != "invalid_scope" || !strings.Contains(frag.Get("error_description"), tt.errText) || frag.Get("state") != "x" {
					t.Errorf("error %q %q, want invalid_scope with %q", frag.Get("error"), frag.Get("error_description"), tt.errText)
				}
				return
			}
			perm, err := url.QueryUnescape(loc.Query().Get("st.redirect"))
			if err != nil {
				t.Fatal(err)
			}
			pu, err := url.Parse(perm)
			if err != nil || pu.Query().Get("st.scope") != tt.want {
				t.Errorf("login URL %s: permissions URL %q, want st.scope=%q", loc, perm, tt.want)
			}
		})
	}
}

// TestOAuthConcurrentBrowser: many goroutines run the flow at once with
// one cookie, as a client retrying in parallel might. Each request gets an
// answer (no panic, which would close the connection), and the pages work
// afterwards (no lock left held). Run it with -race.
func TestOAuthConcurrentBrowser(t *testing.T) {
	t.Parallel()
	// The server's error log says "panic serving ..." for a handler that
	// panicked; net/http's client may retry such a GET on its own, so the
	// log is where a panic shows.
	var log lockedBuffer
	s := newTestServer(t, Config{Seed: 47, Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	demo := s.DemoUser()
	blank := s.URL + "/blank.html"
	b := newBrowser(t, s)
	p := b.get(authorizeURL(s, "token", blank, "x", "VALUABLE_ACCESS"))
	b.post(p.forms[0].action, loginForm(demo.Login, demo.Password))

	const workers, rounds = 32, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*4+64*50)
	send := func(req *http.Request) string {
		resp, err := b.hc.Do(req)
		if err != nil {
			errs <- err
			return ""
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			errs <- fmt.Errorf("%s %s: HTTP %d", req.Method, req.URL.Path, resp.StatusCode)
		}
		return string(body)
	}
	csrf := regexp.MustCompile(`name="fr.token" value="([^"]+)"`)
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				scope := []string{"VALUABLE_ACCESS", "GET_EMAIL", "PHOTO_CONTENT"}[(w+i)%3]
				rt := []string{"token", "code"}[i%2]
				req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, authorizeURL(s, rt, blank, "st", scope), nil)
				send(req)
				req, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+"/dk?st.cmd=OAuth2Permissions", nil)
				token := "guess"
				if m := csrf.FindStringSubmatch(send(req)); m != nil {
					token = m[1]
				}
				form := url.Values{"fr.posted": {"set"}, "fr.token": {token}, "button_accept_request": {""}}
				req, _ = http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+"/dk?st.cmd=OAuth2Permissions&cmd=OAuth2Permissions", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				send(req)
				req, _ = http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+"/dk?cmd=OAuth2Login&st.cmd=OAuth2Login", strings.NewReader(loginForm(demo.Login, demo.Password).Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				send(req)
			}
		})
	}
	wg.Wait()
	// Then authorize requests that are granted already, each finishing the
	// browser's one pending request at once.
	for range 64 {
		wg.Go(func() {
			for range 50 {
				req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, authorizeURL(s, "token", blank, "st", "VALUABLE_ACCESS"), nil)
				send(req)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if text := log.String(); strings.Contains(text, "panic") {
		t.Errorf("the sandbox panicked:\n%.2000s", text)
	}
	// The same browser still gets through.
	p = b.get(authorizeURL(s, "token", blank, "after", "SET_STATUS"))
	if len(p.forms) != 1 {
		t.Fatalf("after the storm the authorize page gave %d %q:\n%s", p.status, p.location, p.body)
	}
	v := p.forms[0].values
	v.Set("button_accept_request", "")
	p = b.post(p.forms[0].action, v)
	if frag := fragmentOf(t, p.location); frag.Get("access_token") == "" || frag.Get("state") != "after" {
		t.Fatalf("after the storm the flow ended at %d %q", p.status, p.location)
	}
}

// lockedBuffer is a bytes.Buffer safe for the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
