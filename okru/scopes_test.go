package okru_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/okru-run/okru-run/okru"
)

func TestSplitScopes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		list string
		want []string
	}{
		{"", nil},
		{"  ", nil},
		{"VALUABLE_ACCESS", []string{"VALUABLE_ACCESS"}},
		{"VALUABLE_ACCESS;GET_EMAIL", []string{"VALUABLE_ACCESS", "GET_EMAIL"}},
		{"VALUABLE_ACCESS, GET_EMAIL SET_STATUS", []string{"VALUABLE_ACCESS", "GET_EMAIL", "SET_STATUS"}},
		{"VALUABLE_ACCESS;;GET_EMAIL", []string{"VALUABLE_ACCESS", "", "GET_EMAIL"}},
		{"VALUABLE_ACCESS;", []string{"VALUABLE_ACCESS", ""}},
		{";GET_EMAIL", []string{"", "GET_EMAIL"}},
		{"VALUABLE_ACCESS; ;GET_EMAIL", []string{"VALUABLE_ACCESS", "", "GET_EMAIL"}},
	}
	for _, tt := range tests {
		if got := okru.SplitScopes(tt.list); !slices.Equal(got, tt.want) {
			t.Errorf("SplitScopes(%q) = %q, want %q", tt.list, got, tt.want)
		}
	}
}

// TestScopesCoverCatalog: Scopes is the one list of permission names, so
// every permission the catalog asks for must be on it.
func TestScopesCoverCatalog(t *testing.T) {
	t.Parallel()
	known := okru.Scopes()
	for _, m := range okru.Methods() {
		perms := slices.Clone(m.Permissions)
		for _, c := range m.Conditional {
			perms = append(perms, c.Permission)
		}
		for _, f := range m.FieldPermissions {
			perms = append(perms, f.Permission)
		}
		for _, p := range perms {
			if !slices.Contains(known, p) {
				t.Errorf("%s asks for %s, which okru.Scopes does not list", m.Name, p)
			}
		}
	}
	if err := okru.CheckScopes(known); err != nil {
		t.Errorf("CheckScopes(Scopes()) = %v", err)
	}
}

// TestLoginBadScopes: every login that takes a scope list checks it before
// any request (ok.ru would refuse it only after the password was posted):
// unknown names, with a suggestion when one is close, empty names and
// repeated names are a *ScopeError naming the name, and the server sees
// nothing. A name that does not look like a scope is not repeated: it may
// be a secret pasted into the wrong place.
func TestLoginBadScopes(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "no request was expected", http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	const password = "PASSWORD-0123456789"
	logins := []struct {
		name  string
		login func(context.Context, okru.ImplicitConfig) error
	}{
		{"ImplicitLogin", func(ctx context.Context, cfg okru.ImplicitConfig) error {
			_, err := okru.ImplicitLogin(ctx, cfg)
			return err
		}},
		{"AuthorizeCode", func(ctx context.Context, cfg okru.ImplicitConfig) error {
			_, err := okru.AuthorizeCode(ctx, cfg)
			return err
		}},
		{"ImplicitSession", func(ctx context.Context, cfg okru.ImplicitConfig) error {
			_, err := okru.ImplicitSession(ctx, cfg)
			return err
		}},
		{"ImplicitServerSession", func(ctx context.Context, cfg okru.ImplicitConfig) error {
			_, err := okru.ImplicitServerSession(ctx, cfg)
			return err
		}},
		{"ImplicitClientSession", func(ctx context.Context, cfg okru.ImplicitConfig) error {
			_, err := okru.ImplicitClientSession(ctx, cfg)
			return err
		}},
	}
	tests := []struct {
		name    string
		scopes  []string
		problem okru.ScopeProblem
		want    []string // in the message
		hidden  string   // never in the message
	}{
		{"unknown", []string{okru.ScopeValuableAccess, "EVERYTHING"}, okru.ScopeUnknown,
			[]string{`unknown scope "EVERYTHING"`, "known scopes: VALUABLE_ACCESS;"}, ""},
		{"typo", []string{"VALUABLE_ACESS"}, okru.ScopeUnknown, []string{`unknown scope "VALUABLE_ACESS"; did you mean VALUABLE_ACCESS?`}, ""},
		{"lower case", []string{okru.ScopeValuableAccess, "get_email"}, okru.ScopeUnknown, []string{`"get_email"; did you mean GET_EMAIL?`}, ""},
		{"empty name", okru.SplitScopes("VALUABLE_ACCESS;;GET_EMAIL"), okru.ScopeEmpty, []string{"name 2 of the scope list is empty"}, ""},
		{"trailing separator", okru.SplitScopes("VALUABLE_ACCESS;"), okru.ScopeEmpty, []string{"name 2 of the scope list is empty"}, ""},
		{"repeated", []string{okru.ScopeGetEmail, okru.ScopeValuableAccess, okru.ScopeGetEmail}, okru.ScopeRepeated, []string{"the scope list names GET_EMAIL twice"}, ""},
		{"token-like", []string{okru.ScopeValuableAccess, "-s-abc123secret"}, okru.ScopeUnknown, []string{"name 2 of the scope list is not a scope"}, "abc123secret"},
	}
	for _, l := range logins {
		for _, tt := range tests {
			t.Run(l.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				app := "512000000001"
				cfg := okru.ImplicitConfig{AppID: app, AppKey: "CBAKEY", AppSecretKey: "APP-SECRET-0123456789",
					Login: "demo", Password: password, Permissions: tt.scopes, ConnectURL: srv.URL, APIURL: srv.URL}
				err := l.login(t.Context(), cfg)
				var se *okru.ScopeError
				if !errors.As(err, &se) || se.Problem != tt.problem {
					t.Fatalf("err = %v, want a *ScopeError, %s", err, tt.problem)
				}
				for _, w := range tt.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("err = %v, want it to say %q", err, w)
					}
				}
				for _, secret := range []string{password, cfg.AppSecretKey, tt.hidden} {
					if secret != "" && strings.Contains(err.Error(), secret) {
						t.Errorf("err = %v shows %q", err, secret)
					}
				}
			})
		}
	}
	t.Cleanup(func() {
		if n := hits.Load(); n != 0 {
			t.Errorf("the server got %d requests; a bad scope list must send none", n)
		}
	})
}
