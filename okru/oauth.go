package okru

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// DefaultRedirectURI is where ok.ru sends the browser of an external app
// after a login: a blank page whose URL fragment holds the token.
const DefaultRedirectURI = "https://oauth.mycdn.me/blank.html"

// Scopes (permissions) an app may ask for at login, joined with ";" in the
// authorize URL; Scopes lists them all. VALUABLE_ACCESS is needed by most
// methods; LONG_ACCESS_TOKEN makes the token last 30 days, extended by use.
const (
	ScopeValuableAccess  = "VALUABLE_ACCESS"
	ScopeLongAccessToken = "LONG_ACCESS_TOKEN"
	ScopePhotoContent    = "PHOTO_CONTENT"
	ScopeGroupContent    = "GROUP_CONTENT"
	ScopeVideoContent    = "VIDEO_CONTENT"
	ScopeAppInvite       = "APP_INVITE"
	ScopeGetEmail        = "GET_EMAIL"
	ScopeSetStatus       = "SET_STATUS"
	ScopePublishNote     = "PUBLISH_NOTE"
	ScopeLike            = "LIKE"
)

// Response types of the authorize URL.
const (
	ResponseTypeToken = "token" // implicit flow: the token comes in the redirect's fragment
	ResponseTypeCode  = "code"  // code flow: a code comes in the query, exchanged with ExchangeCode
)

// codeLifetime is how long ok.ru accepts an authorization code.
const codeLifetime = 2 * time.Minute

// OAuthConfig describes an app to ok.ru's OAuth endpoints: the authorize
// page on ConnectURL and oauth/token.do on APIURL. Its String method hides
// the app secret key.
type OAuthConfig struct {
	AppID        string   // client_id
	AppKey       string   // the public application_key, for auth.login
	AppSecretKey string   // client_secret, for the code and refresh grants
	RedirectURI  string   // registered with the app; "" means DefaultRedirectURI
	Scopes       []string // permissions to ask for, e.g. ScopeValuableAccess
	ConnectURL   string   // "" means DefaultConnectURL
	APIURL       string   // "" means DefaultAPIURL
	// HTTPClient sends the requests; nil means the client shared by APIs
	// created without one.
	HTTPClient *http.Client
}

// String describes the config without its secret.
func (c OAuthConfig) String() string {
	return fmt.Sprintf("okru.OAuthConfig{app_id=%s app_key=%s app_secret_key=%s redirect_uri=%s scopes=%s}",
		c.AppID, c.AppKey, presence(c.AppSecretKey), c.redirectURI(), strings.Join(c.Scopes, ";"))
}

// Format makes every verb print String.
func (c OAuthConfig) Format(f fmt.State, _ rune) { fmt.Fprint(f, c.String()) }

func (c OAuthConfig) redirectURI() string {
	if c.RedirectURI == "" {
		return DefaultRedirectURI
	}
	return c.RedirectURI
}

func (c OAuthConfig) connectURL() string {
	if c.ConnectURL == "" {
		return DefaultConnectURL
	}
	return withSlash(c.ConnectURL)
}

func (c OAuthConfig) apiURL() string {
	if c.APIURL == "" {
		return DefaultAPIURL
	}
	return withSlash(c.APIURL)
}

// api returns an unpaced API for one request outside fb.do's signing, so
// that OAuth requests share the retry loop and error types of calls.
func (c OAuthConfig) api() *API {
	return New(AppSession(c.AppKey, "", WithAPIURL(c.apiURL())), &Options{HTTPClient: c.HTTPClient, Rate: Unlimited})
}

// AuthorizeURL returns the URL of ok.ru's authorize page for cfg:
// connect_url/oauth/authorize with client_id, scope (joined with ";"),
// response_type (ResponseTypeToken or ResponseTypeCode), redirect_uri,
// layout=w and state. Send a user's browser there; state comes back
// unchanged in the redirect and should be checked against forgery.
// Check cfg.Scopes with CheckScopes first: ok.ru refuses a bad list only
// after the user has logged in.
func AuthorizeURL(cfg OAuthConfig, responseType, state string) string {
	q := url.Values{
		"client_id":     {cfg.AppID},
		"scope":         {strings.Join(cfg.Scopes, ";")},
		"response_type": {responseType},
		"redirect_uri":  {cfg.redirectURI()},
		"layout":        {"w"},
	}
	if state != "" {
		q.Set("state", state)
	}
	return cfg.connectURL() + "oauth/authorize?" + q.Encode()
}

// OAuthError is an error answered by an OAuth endpoint, as
// {"error": "invalid_grant", "error_description": "..."} from
// oauth/token.do or as error= in a login's redirect, or an HTML error page
// token.do answered instead (ok.ru does, for example an HTTP 400 page, or
// an HTTP 200 page "Failed to convert value..."): then Code is empty and
// Page holds the page's title. Two OAuthErrors match with errors.Is when
// their codes are equal.
type OAuthError struct {
	Endpoint    string // "oauth/token.do" or "authorize"
	Grant       string // the grant_type sent to token.do, if any
	Code        string // error, e.g. "invalid_grant", "access_denied"; "" for an HTML page
	Description string // error_description, secrets removed
	Page        string // the title (or first text) of an HTML error page, secrets removed
	Status      int    // HTTP status of a token.do answer; 0 for a redirect
}

func (e *OAuthError) Error() string {
	var b strings.Builder
	b.WriteString("oauth ")
	b.WriteString(e.Endpoint)
	if e.Grant != "" {
		b.WriteString(" (" + e.Grant + " grant)")
	}
	if e.Code != "" {
		b.WriteString(": " + e.Code)
	}
	if e.Description != "" {
		b.WriteString(": " + e.Description)
	}
	if e.Code == "" {
		fmt.Fprintf(&b, ": the server answered HTTP %d with an HTML page %q instead of JSON", e.Status, e.Page)
	} else if e.Status != 0 && e.Status != http.StatusOK {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if hint := e.hint(); hint != "" {
		b.WriteString("; " + hint)
	}
	return b.String()
}

func (e *OAuthError) hint() string {
	switch e.Code {
	case "":
		return "ok.ru answers such pages to a request it cannot read: check the app id, the code or refresh token, and the redirect URI"
	case "invalid_client", "unauthorized_client":
		return "check the app id and the app secret key"
	case "invalid_grant":
		switch e.Grant {
		case "authorization_code":
			return "codes are single-use and expire after 2 minutes: log in again"
		case "refresh_token":
			return "the refresh token expired or was revoked: log in again"
		}
	case "access_denied":
		return "the user refused the permissions"
	case "invalid_scope":
		return "ask only for scopes the app was granted by ok.ru"
	}
	return ""
}

// Is matches another *OAuthError with the same Code.
func (e *OAuthError) Is(target error) bool {
	t, ok := target.(*OAuthError)
	return ok && t.Code == e.Code
}

// ExchangeCode exchanges the code of a code-flow redirect for a token at
// api_url/oauth/token.do (grant_type=authorization_code). It needs the app
// id, the app secret key and the redirect URI the code was issued for. The
// token has a refresh token and signs with the server-server circuit, so
// use it with ServerSession and WithRefreshToken.
//
// Codes are single-use: a failed exchange is not repeated once the request
// may have reached ok.ru. An answer with an error is an *OAuthError.
func ExchangeCode(ctx context.Context, cfg OAuthConfig, code string) (Token, error) {
	if code == "" {
		return Token{}, errors.New("oauth token.do: the code is empty")
	}
	return tokenGrant(ctx, cfg, "authorization_code", url.Values{
		"code":         {code},
		"redirect_uri": {cfg.redirectURI()},
	})
}

// RefreshToken gets a new access token with a refresh token
// (grant_type=refresh_token). ok.ru does not rotate refresh tokens: the
// returned Token carries refreshToken again. Refreshing is safe to repeat,
// so transient failures are retried.
func RefreshToken(ctx context.Context, cfg OAuthConfig, refreshToken string) (Token, error) {
	if refreshToken == "" {
		return Token{}, errors.New("oauth token.do: the refresh token is empty")
	}
	t, err := tokenGrant(ctx, cfg, "refresh_token", url.Values{"refresh_token": {refreshToken}})
	if err == nil && t.RefreshToken == "" {
		t.RefreshToken = refreshToken
	}
	return t, err
}

// RefreshGrant returns a RefreshFunc that renews a session's token with the
// refresh grant, using the session's app id, app secret key, API URL and
// refresh token, over hc (nil means the shared default client). Sessions
// created with WithAppID, an app secret key and WithRefreshToken install
// RefreshGrant(nil) themselves; install it with SetRefresher to use
// another HTTP client.
func RefreshGrant(hc *http.Client) RefreshFunc {
	return func(ctx context.Context, s *Session) (Token, error) {
		old := s.Token()
		if s.appID == "" || s.appSecretKey == "" {
			return Token{}, errors.New("the refresh grant needs the app id (WithAppID) and the app secret key")
		}
		cfg := OAuthConfig{AppID: s.appID, AppKey: s.appKey, AppSecretKey: s.appSecretKey, APIURL: s.apiURL, HTTPClient: hc}
		t, err := RefreshToken(ctx, cfg, old.RefreshToken)
		if err != nil {
			return Token{}, err
		}
		if len(t.Permissions) == 0 {
			t.Permissions = old.Permissions // a refreshed token keeps its scopes
		}
		return t, nil
	}
}

// tokenGrant posts one grant to oauth/token.do and reads the token.
func tokenGrant(ctx context.Context, cfg OAuthConfig, grant string, form url.Values) (Token, error) {
	if cfg.AppID == "" || cfg.AppSecretKey == "" {
		return Token{}, fmt.Errorf("oauth token.do (%s grant): the app id and the app secret key are both needed", grant)
	}
	form.Set("grant_type", grant)
	form.Set("client_id", cfg.AppID)
	form.Set("client_secret", cfg.AppSecretKey)
	const endpoint = "oauth/token.do"
	a := cfg.api()
	secrets := []string{cfg.AppSecretKey, form.Get("code"), form.Get("refresh_token")}
	cc := a.config(nil)
	// The refresh grant may be repeated; a code is spent by the first
	// exchange that reaches the server.
	cc.allowRetry = grant == "refresh_token"
	body := form.Encode()
	raw, err := a.run(ctx, endpoint, &cc, func(ctx context.Context) (json.RawMessage, uint64, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.apiURL()+endpoint, strings.NewReader(body))
		if err != nil {
			return nil, 0, fmt.Errorf("oauth %s: %w", endpoint, redactError(err, secrets))
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		// The secrets travel in the body, never in the URL that
		// transport errors quote.
		resp, err := a.hc.Do(req)
		if err != nil {
			return nil, 0, a.transportError(endpoint, err, nil)
		}
		data, err := readBody(endpoint, resp)
		if de, ok := errors.AsType[*DecodeError](err); ok {
			return nil, 0, de
		}
		if err != nil {
			return nil, 0, &TransportError{Method: endpoint, Sent: true, Err: err}
		}
		return decodeTokenAnswer(endpoint, grant, resp, data, secrets)
	})
	if err != nil {
		return Token{}, err
	}
	return parseTokenJSON(endpoint, raw, time.Now())
}

// decodeTokenAnswer tells a token answer from an OAuth error or from
// something that is not token.do at all (a proxy's page).
func decodeTokenAnswer(endpoint, grant string, resp *http.Response, data []byte, secrets []string) (json.RawMessage, uint64, error) {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	trimmed := bytes.TrimSpace(data)
	isObject := len(trimmed) > 0 && trimmed[0] == '{' && json.Valid(trimmed)
	if isObject && json.Unmarshal(trimmed, &e) == nil && e.Error != "" {
		return nil, 0, &OAuthError{Endpoint: endpoint, Grant: grant, Code: e.Error,
			Description: Redact(e.Description, secrets...), Status: resp.StatusCode}
	}
	if !isObject && isHTMLAnswer(resp, trimmed) && !proxyStatus(resp.StatusCode) {
		return nil, 0, &OAuthError{Endpoint: endpoint, Grant: grant, Status: resp.StatusCode,
			Page: excerpt(Redact(pageTitle(trimmed), secrets...))}
	}
	if resp.StatusCode != http.StatusOK || !isObject {
		return nil, 0, &DecodeError{Method: endpoint, Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"),
			Excerpt: excerpt(Redact(string(data), secrets...))}
	}
	return json.RawMessage(trimmed), 0, nil
}

// isHTMLAnswer reports whether an answer is an HTML page, by its content
// type or, when that is missing or generic, by its first byte.
func isHTMLAnswer(resp *http.Response, body []byte) bool {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return mt == "text/html" || mt == "application/xhtml+xml" || (len(body) > 0 && body[0] == '<')
}

// proxyStatus tells the statuses of a proxy or load balancer in trouble,
// whose pages are not ok.ru's answer (and are retried where safe).
func proxyStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// pageTitle returns an HTML page's <title>, else its first <h1>, else the
// start of its text.
func pageTitle(body []byte) string {
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return ""
	}
	var title, h1, text string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Title:
				if title == "" {
					title = strings.Join(strings.Fields(textOf(n)), " ")
				}
			case atom.H1:
				if h1 == "" {
					h1 = strings.Join(strings.Fields(textOf(n)), " ")
				}
			case atom.Script, atom.Style:
				return
			}
		}
		if n.Type == html.TextNode && text == "" {
			text = strings.Join(strings.Fields(n.Data), " ")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	switch {
	case title != "":
		return title
	case h1 != "":
		return h1
	}
	return text
}

// parseTokenJSON reads {"access_token", "refresh_token", "expires_in", ...}.
// expires_in may be a number or a string of digits.
func parseTokenJSON(endpoint string, raw json.RawMessage, now time.Time) (Token, error) {
	var r struct {
		AccessToken      string          `json:"access_token"`
		RefreshToken     string          `json:"refresh_token"`
		SessionSecretKey string          `json:"session_secret_key"`
		ExpiresIn        json.RawMessage `json:"expires_in"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return Token{}, &DecodeError{Method: endpoint, Status: http.StatusOK, Err: err}
	}
	if r.AccessToken == "" {
		return Token{}, &DecodeError{Method: endpoint, Status: http.StatusOK, Err: errors.New("the answer has no access_token")}
	}
	t := Token{AccessToken: r.AccessToken, RefreshToken: r.RefreshToken, SessionSecretKey: r.SessionSecretKey}
	if len(r.ExpiresIn) > 0 && string(r.ExpiresIn) != "null" {
		secs, err := strconv.ParseInt(strings.Trim(string(r.ExpiresIn), `"`), 10, 64)
		if err != nil || secs < 0 {
			return Token{}, &DecodeError{Method: endpoint, Status: http.StatusOK, Err: errors.New("expires_in is not a number of seconds")}
		}
		if secs > 0 {
			t.ExpiresAt = now.Add(time.Duration(secs) * time.Second)
		}
	}
	return t, nil
}

// PasswordLogin logs in with a user's login and password through the old,
// unsigned auth.login method (what aiookru's password session does), and
// returns the session key as the access token together with its session
// secret key: use them with ClientSession. ok.ru allows this only to apps
// it trusts; prefer ImplicitLogin or the code flow. Only cfg.AppKey and
// cfg.APIURL are used. A wrong login or password is an *Error with
// CodeAuthLogin (401).
func PasswordLogin(ctx context.Context, cfg OAuthConfig, login, password string) (Token, error) {
	const method = "auth.login"
	if cfg.AppKey == "" || login == "" || password == "" {
		return Token{}, fmt.Errorf("call %s: the app key, the login and the password are all needed", method)
	}
	a := cfg.api()
	wire := map[string]string{
		"method": method, "application_key": cfg.AppKey, "format": "json",
		"user_name": login, "password": password,
	}
	cc := a.config(nil)
	raw, err := a.run(ctx, method, &cc, func(ctx context.Context) (json.RawMessage, uint64, error) {
		res, err := a.send(ctx, method, wire, &cc)
		return res, 0, err
	})
	if err != nil {
		return Token{}, err
	}
	var r struct {
		SessionKey       string `json:"session_key"`
		SessionSecretKey string `json:"session_secret_key"`
	}
	if err := json.Unmarshal(raw, &r); err != nil || r.SessionKey == "" || r.SessionSecretKey == "" {
		if err == nil {
			err = errors.New("the answer lacks session_key or session_secret_key")
		}
		return Token{}, &DecodeError{Method: method, Status: http.StatusOK, Err: err}
	}
	return Token{AccessToken: r.SessionKey, SessionSecretKey: r.SessionSecretKey}, nil
}
