package okru_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/okru-run/okru-run/okru"
)

// okruPages serves the fixtures built to the structure of ok.ru's real
// pages: the authorize URL redirects to the login page (with st.redirect),
// the login form's post to the permissions page, the permissions form's
// post to the redirect URI with a fragment that has no expires_in.
type okruPages struct {
	*httptest.Server
	mu     sync.Mutex
	state  string
	posted []url.Values
}

func newOKRUPages(t *testing.T) *okruPages {
	t.Helper()
	p := &okruPages{}
	page := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", "login", name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.ReplaceAll(string(b), "REDIRECT_URI", p.URL+"/blank.html")
	}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case r.URL.Path == "/oauth/authorize":
			p.mu.Lock()
			p.state = q.Get("state")
			p.mu.Unlock()
			http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: "browser-1", Path: "/"})
			w.Header().Set("Location", "/dk?st.cmd=OAuth2Login&st.layout=w&st.redirect=%252Fdk%253Fst.cmd%253DOAuth2Permissions&st.client_id=1")
			w.WriteHeader(http.StatusFound)
			return
		case r.URL.Path != "/dk":
			http.NotFound(w, r)
			return
		}
		if c, err := r.Cookie("JSESSIONID"); err != nil || c.Value != "browser-1" {
			http.Error(w, "no cookie", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/html;charset=UTF-8")
		if r.Method == http.MethodGet {
			switch q.Get("st.cmd") {
			case "OAuth2Login":
				fmt.Fprint(w, page("okru_login.html"))
			case "OAuth2Permissions":
				fmt.Fprint(w, page("okru_permissions.html"))
			}
			return
		}
		r.ParseForm()
		p.mu.Lock()
		p.posted = append(p.posted, r.PostForm)
		state := p.state
		p.mu.Unlock()
		switch q.Get("st.cmd") {
		case "OAuth2Login":
			w.Header().Set("Location", "/dk?st.cmd=OAuth2Permissions&st.layout=w&st.scope=VALUABLE_ACCESS&st.response_type=token&st.show_permissions=off&st.client_id=1")
		case "OAuth2Permissions":
			w.Header().Set("Location", p.URL+"/blank.html#access_token="+fakeToken+"&session_secret_key=ssk-0123456789&permissions_granted=VALUABLE_ACCESS&state="+state)
		}
		w.WriteHeader(http.StatusFound)
	}))
	t.Cleanup(p.Close)
	return p
}

// TestLoginOKRUPages logs in through pages built to ok.ru's structure:
// the unnamed submit input is not sent, the checked fr.remember is, the
// accept <button> without a value is sent empty, the cancel link is not
// followed, and a fragment without expires_in gives a token without a
// known expiry.
func TestLoginOKRUPages(t *testing.T) {
	t.Parallel()
	p := newOKRUPages(t)
	tok, err := okru.ImplicitLogin(t.Context(), okru.ImplicitConfig{AppID: "1", Login: "user@example.com",
		Password: "pw-0123456789", ConnectURL: p.URL, RedirectURI: p.URL + "/blank.html"})
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != fakeToken || tok.SessionSecretKey != "ssk-0123456789" || !tok.ExpiresAt.IsZero() ||
		len(tok.Permissions) != 1 || tok.Permissions[0] != "VALUABLE_ACCESS" {
		t.Errorf("token %v", tok)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	want := []url.Values{
		{"fr.posted": {"set"}, "fr.email": {"user@example.com"}, "fr.password": {"pw-0123456789"}, "fr.remember": {"on"}},
		{"fr.posted": {"set"}, "fr.token": {"b0b1b2b3b4b5b6b7b8b9c0c1c2c3c4c5"}, "button_accept_request": {""}},
	}
	if fmt.Sprint(p.posted) != fmt.Sprint(want) {
		t.Errorf("posted %v\nwant   %v", p.posted, want)
	}
}

// TestLoginStaysOnConnectOrigin: the login follows no redirect off the
// connect URL's origin (another host, or http from https) and posts the
// password only there. The other origin receives nothing, and the error
// names where the redirect went without a secret.
func TestLoginStaysOnConnectOrigin(t *testing.T) {
	t.Parallel()
	const password = "pw-0123456789"
	evil := newCollector(t)
	tests := []struct {
		name string
		page string // served by the authorize path; "" redirects at once
		next func(w http.ResponseWriter, r *http.Request)
		step okru.LoginStep
	}{
		{name: "authorize redirects to another host", next: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, evil.URL+"/dk?st.cmd=OAuth2Login", http.StatusFound)
		}, step: okru.StepAuthorize},
		{name: "the login post is sent on with 307", page: "okru_login.html", next: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, evil.URL+"/dk?cmd=OAuth2Login", http.StatusTemporaryRedirect)
		}, step: okru.StepLoginForm},
		{name: "the login post is sent on with 308", page: "okru_login.html", next: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, evil.URL+"/dk?cmd=OAuth2Login", http.StatusPermanentRedirect)
		}, step: okru.StepLoginForm},
		{name: "after the login, a page on another host", page: "okru_login.html", next: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, evil.URL+"/dk?st.cmd=OAuth2Permissions", http.StatusFound)
		}, step: okru.StepLoginForm},
	}
	// After the parallel subtests, which run once this function returns.
	t.Cleanup(func() {
		if got := evil.requests(); len(got) != 0 {
			t.Errorf("the other origin received %q", got)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			connect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/oauth/authorize" && tt.page != "" {
					b, _ := os.ReadFile(filepath.Join("testdata", "login", tt.page))
					w.Header().Set("Content-Type", "text/html; charset=utf-8")
					w.Write(b)
					return
				}
				tt.next(w, r)
			}))
			t.Cleanup(connect.Close)
			_, err := okru.ImplicitLogin(t.Context(), okru.ImplicitConfig{AppID: "1", Login: "user@example.com",
				Password: password, ConnectURL: connect.URL, RedirectURI: connect.URL + "/blank.html"})
			var le *okru.LoginError
			if !errors.As(err, &le) || le.Step != tt.step || !errors.Is(err, okru.ErrUnexpectedPage) ||
				!strings.Contains(err.Error(), evil.URL+"/dk") || !strings.Contains(err.Error(), "origin") {
				t.Fatalf("err = %v, want a %s error naming %s/dk", err, tt.step, evil.URL)
			}
			if strings.Contains(err.Error(), password) || strings.Contains(err.Error(), "st.cmd") {
				t.Errorf("the error shows the password or the query: %v", err)
			}
		})
	}
}

// TestLoginNoDowngrade: from an https connect URL the login follows no
// redirect to http, not even on the same host.
func TestLoginNoDowngrade(t *testing.T) {
	t.Parallel()
	var plain []string
	var mu sync.Mutex
	connect := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			mu.Lock()
			plain = append(plain, r.URL.String())
			mu.Unlock()
		}
		http.Redirect(w, r, "http://"+r.Host+"/dk?st.cmd=OAuth2Login", http.StatusFound)
	}))
	t.Cleanup(connect.Close)
	_, err := okru.ImplicitLogin(t.Context(), okru.ImplicitConfig{AppID: "1", Login: "user@example.com",
		Password: "pw-0123456789", ConnectURL: connect.URL, RedirectURI: connect.URL + "/blank.html", HTTPClient: connect.Client()})
	if !errors.Is(err, okru.ErrUnexpectedPage) || !strings.Contains(err.Error(), "http://"+strings.TrimPrefix(connect.URL, "https://")+"/dk") {
		t.Fatalf("err = %v, want a refused redirect to http", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(plain) != 0 {
		t.Errorf("plain http requests reached the server: %q", plain)
	}
}
