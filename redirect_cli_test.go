package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/okru-run/okru-run/okru"
)

// otherOrigin is the server an attacker's redirect points at; it records
// every request that reaches it.
type otherOrigin struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func newOtherOrigin(t *testing.T) *otherOrigin {
	o := &otherOrigin{}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		o.mu.Lock()
		o.seen = append(o.seen, r.Method+" "+r.URL.String()+" "+string(body))
		o.mu.Unlock()
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		fmt.Fprint(w, `{"uid":"1","first_name":"Evil","last_name":"Server"}`)
	}))
	t.Cleanup(o.Close)
	return o
}

func (o *otherOrigin) requests() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.seen...)
}

// TestRunRefusesAPIRedirect: a workflow whose API URL answers 307 to
// another origin fails with an error naming the target; the other origin
// receives nothing, and neither stdout, stderr nor -json shows a secret.
func TestRunRefusesAPIRedirect(t *testing.T) {
	t.Parallel()
	other := newOtherOrigin(t)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("Location", other.URL+"/fb.do?"+r.Form.Encode())
		w.WriteHeader(http.StatusTemporaryRedirect)
	}))
	t.Cleanup(api.Close)
	const key, secret, token = "APPKEY", "APPSECRET0123456789", "-s-TOKEN0123456789abcdef"
	env := []string{"OKRU_APP_KEY=" + key, "OKRU_APP_SECRET_KEY=" + secret, "OKRU_ACCESS_TOKEN=" + token, "OKRU_API_URL=" + api.URL}
	secrets := map[string]string{"app secret key": secret, "access token": token, "server secret": okru.ServerSecret(token, secret)}
	whoami := filepath.Join(copyExamples(t), "whoami.hcl") // its state stays out of the repository
	for _, args := range [][]string{{"run", whoami}, {"run", "-json", whoami}} {
		r := runCLI(t, env, "", args...)
		if r.code != exitFailed || !strings.Contains(r.stdout+r.stderr, other.URL+"/fb.do") || !strings.Contains(r.stdout+r.stderr, "redirect") {
			t.Errorf("%v: exit %d, want 1 and a refused redirect to %s/fb.do\nstdout: %s\nstderr: %s", args, r.code, other.URL, r.stdout, r.stderr)
		}
		checkNoSecrets(t, r, secrets)
		if strings.Contains(r.stdout+r.stderr, "sig=") || strings.Contains(r.stdout+r.stderr, "Evil") {
			t.Errorf("%v: the output shows the signed query or the other server's answer:\n%s%s", args, r.stdout, r.stderr)
		}
	}
	if got := other.requests(); len(got) != 0 {
		t.Errorf("the other origin received %q", got)
	}
}

// TestLoginRefusesOtherOrigin: okru-run login follows no redirect off the
// connect URL's origin and posts the password nowhere else.
func TestLoginRefusesOtherOrigin(t *testing.T) {
	t.Parallel()
	other := newOtherOrigin(t)
	const loginPage = `<!DOCTYPE html><html><head><title>Одноклассники</title></head><body>
<form action="/dk?cmd=OAuth2Login&amp;st.cmd=OAuth2Login" method="post">
<input type="hidden" name="fr.posted" value="set"><input type="text" name="fr.email"><input type="password" name="fr.password">
<input type="checkbox" name="fr.remember" value="on" checked><input type="submit" value="Войти"></form></body></html>`
	tests := map[string]http.HandlerFunc{
		"authorize redirects away": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/dk?st.cmd=OAuth2Login", http.StatusFound)
		},
		"the login post is sent on with 307": func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				http.Redirect(w, r, other.URL+"/dk?cmd=OAuth2Login", http.StatusTemporaryRedirect)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, loginPage)
		},
	}
	const password = "PASSWORD-0123456789"
	// After the parallel subtests, which run once this function returns.
	t.Cleanup(func() {
		if got := other.requests(); len(got) != 0 {
			t.Errorf("the other origin received %q", got)
		}
	})
	for name, handler := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			connect := httptest.NewServer(handler)
			t.Cleanup(connect.Close)
			env := []string{"OKRU_APP_ID=1", "OKRU_APP_KEY=KEY", "OKRU_LOGIN=me@example.com", "OKRU_PASSWORD=" + password,
				"OKRU_CONNECT_URL=" + connect.URL, "OKRU_API_URL=" + connect.URL}
			r := runCLI(t, env, "", "login", "-env")
			if r.code != exitFailed || r.stdout != "" || !strings.Contains(r.stderr, other.URL+"/dk") {
				t.Errorf("exit %d, want 1 naming %s/dk\nstdout: %s\nstderr: %s", r.code, other.URL, r.stdout, r.stderr)
			}
			checkNoSecrets(t, r, map[string]string{"password": password})
		})
	}
}
