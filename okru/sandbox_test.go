package okru_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/okru-run/okru-run/okru"
	"github.com/okru-run/okru-run/okru/okrutest"
)

// End-to-end tests: the client against the sandbox over real HTTP on
// loopback. Each test starts its own sandbox, since faults are per server.

func newSandbox(t *testing.T) *okrutest.Server {
	t.Helper()
	srv := okrutest.NewServer(okrutest.Config{Seed: 1, Users: 200})
	t.Cleanup(srv.Close)
	return srv
}

// sandboxAPI returns an unpaced server-server API for the demo user.
func sandboxAPI(srv *okrutest.Server, opts *okru.Options) *okru.API {
	app, demo := srv.App(), srv.DemoUser()
	s := okru.ServerSession(app.Key, app.SecretKey, demo.AccessToken, okru.WithAPIURL(srv.URL))
	if opts == nil {
		opts = &okru.Options{}
	}
	if opts.Rate == 0 {
		opts.Rate = okru.Unlimited
	}
	return okru.New(s, opts)
}

// callsOf returns the sandbox's record of the calls to method.
func callsOf(srv *okrutest.Server, method string) []okrutest.Call {
	return slices.DeleteFunc(srv.Calls(), func(c okrutest.Call) bool { return c.Method != method })
}

func TestSandboxSessions(t *testing.T) {
	t.Parallel()
	srv := newSandbox(t)
	app, demo := srv.App(), srv.DemoUser()
	tokenServer, err := okru.TokenSession(app.Key, app.SecretKey, demo.AccessToken, demo.SessionSecretKey, okru.WithAPIURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	tokenClient, err := okru.TokenSession(app.Key, "", demo.AccessToken, demo.SessionSecretKey, okru.WithAPIURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	server := okru.ServerSession(app.Key, app.SecretKey, demo.AccessToken, okru.WithAPIURL(srv.URL))
	client := okru.ClientSession(app.Key, demo.AccessToken, demo.SessionSecretKey, okru.WithAPIURL(srv.URL))
	appOnly := okru.AppSession(app.Key, app.SecretKey, okru.WithAPIURL(srv.URL))

	tests := []struct {
		name        string
		session     *okru.Session
		opts        okru.Options
		method      string
		params      okru.Params
		wantCircuit string
	}{
		{name: "server session", session: server, method: "users.getCurrentUser", wantCircuit: "server-server"},
		{name: "client session", session: client, method: "users.getCurrentUser", wantCircuit: "client-server"},
		{name: "token session infers server", session: tokenServer, method: "users.getCurrentUser", wantCircuit: "server-server"},
		{name: "token session infers client", session: tokenClient, method: "users.getCurrentUser", wantCircuit: "client-server"},
		// users.getInfo needs a session from an external application, as the
		// sandbox's is; users.isAppUser does not.
		{name: "app session", session: appOnly, method: "users.isAppUser",
			params: okru.Params{"uid": demo.UID}, wantCircuit: "no-session"},
		{name: "server session with GET", session: server, opts: okru.Options{UseGET: true}, method: "users.getCurrentUser", wantCircuit: "server-server"},
		{name: "client session by path", session: client, opts: okru.Options{PathStyle: true}, method: "users.getCurrentUser", wantCircuit: "client-server"},
		{name: "client session by path with GET", session: client, opts: okru.Options{PathStyle: true, UseGET: true},
			method: "users.getCurrentUser", wantCircuit: "client-server"},
	}
	var mu sync.Mutex // the sandbox's call log is shared by the subtests
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Rate = okru.Unlimited
			api := okru.New(tt.session, &tt.opts)
			mu.Lock()
			defer mu.Unlock()
			before := len(srv.Calls())
			var got json.RawMessage
			if err := api.CallInto(t.Context(), tt.method, tt.params, &got); err != nil {
				t.Fatal(err)
			}
			var user struct {
				UID string `json:"uid"`
			}
			if tt.method == "users.isAppUser" {
				var isAppUser bool
				if err := json.Unmarshal(got, &isAppUser); err != nil {
					t.Fatalf("users.isAppUser = %s, %v", got, err)
				}
				user.UID = demo.UID
			} else if err := json.Unmarshal(got, &user); err != nil {
				t.Fatal(err)
			}
			if user.UID != demo.UID {
				t.Errorf("uid = %q, want the demo user %q", user.UID, demo.UID)
			}
			calls := srv.Calls()[before:]
			if len(calls) != 1 || calls[0].Circuit != tt.wantCircuit || calls[0].Code != 0 {
				t.Errorf("sandbox saw %+v, want one accepted %s call", calls, tt.wantCircuit)
			}
		})
	}
}

func TestSandboxErrorClasses(t *testing.T) {
	t.Parallel()
	srv := newSandbox(t)
	app, demo := srv.App(), srv.DemoUser()
	at := func(s *okru.Session) *okru.API {
		return okru.New(s, &okru.Options{Rate: okru.Unlimited, Retry: okru.RetryPolicy{MaxAttempts: 1}})
	}
	demoAPI := at(okru.ServerSession(app.Key, app.SecretKey, demo.AccessToken, okru.WithAPIURL(srv.URL)))
	expiring := srv.IssueToken(demo.UID, okrutest.Scopes...)
	srv.ExpireToken(expiring.AccessToken)
	srv.InjectError(okrutest.ErrorRule{Method: "friends.getOnline", Code: okru.CodeService, Times: 1000})
	srv.InjectError(okrutest.ErrorRule{Method: "users.isAppUser", Code: okru.CodeLimitReached, Times: 1000})

	tests := []struct {
		name   string
		api    *okru.API
		method string
		params okru.Params
		code   okru.Code
		class  okru.Class
	}{
		{name: "wrong signature", method: "users.getCurrentUser", code: okru.CodeParamSignature, class: okru.ClassAuth,
			api: at(okru.ServerSession(app.Key, "not-the-app-secret", demo.AccessToken, okru.WithAPIURL(srv.URL)))},
		{name: "wrong session secret", method: "users.getCurrentUser", code: okru.CodeParamSignature, class: okru.ClassAuth,
			api: at(okru.ClientSession(app.Key, demo.AccessToken, "not-the-session-secret", okru.WithAPIURL(srv.URL)))},
		{name: "unknown app key", method: "users.getCurrentUser", code: okru.CodeParamAPIKey, class: okru.ClassAuth,
			api: at(okru.ServerSession("NOSUCHAPP", app.SecretKey, demo.AccessToken, okru.WithAPIURL(srv.URL)))},
		{name: "expired token", method: "users.getCurrentUser", code: okru.CodeParamSessionExpired, class: okru.ClassAuth,
			api: at(okru.ServerSession(app.Key, app.SecretKey, expiring.AccessToken, okru.WithAPIURL(srv.URL)))},
		{name: "missing permission", method: "friends.get", code: okru.CodePermissionDenied, class: okru.ClassPermission,
			api: at(okru.ServerSession(app.Key, app.SecretKey, srv.IssueToken(demo.UID).AccessToken, okru.WithAPIURL(srv.URL)))},
		{name: "missing parameter", api: demoAPI, method: "users.getInfo", code: okru.CodeParam, class: okru.ClassRequest},
		{name: "unknown method", api: demoAPI, method: "users.getInfoo", code: okru.CodeMethod, class: okru.ClassRequest},
		{name: "transient", api: demoAPI, method: "friends.getOnline", code: okru.CodeService, class: okru.ClassTransient},
		{name: "throttle", api: demoAPI, method: "users.isAppUser", code: okru.CodeLimitReached, class: okru.ClassThrottle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.api.Call(t.Context(), tt.method, tt.params)
			var apiErr *okru.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v (%T), want *okru.Error", err, err)
			}
			if apiErr.Code != tt.code || apiErr.Class() != tt.class || !errors.Is(err, tt.code) {
				t.Errorf("got %v (class %s), want code %d class %s", err, apiErr.Class(), tt.code, tt.class)
			}
			if tt.code == okru.CodeMethod && !slices.Contains(apiErr.DidYouMean, "users.getInfo") {
				t.Errorf("no suggestion in %v", err)
			}
		})
	}
}

// TestSandboxSessionRulesBeforeSending: the catalog's session rules fail
// before any traffic, so the sandbox sees nothing.
func TestSandboxSessionRulesBeforeSending(t *testing.T) {
	t.Parallel()
	srv := newSandbox(t)
	app, demo := srv.App(), srv.DemoUser()
	appAPI := okru.New(okru.AppSession(app.Key, app.SecretKey, okru.WithAPIURL(srv.URL)), &okru.Options{Rate: okru.Unlimited})
	if _, err := appAPI.Call(t.Context(), "users.getCurrentUser", nil); !errors.Is(err, okru.ErrSessionRequired) {
		t.Errorf("err = %v, want ErrSessionRequired", err)
	}
	userAPI := okru.New(okru.ServerSession(app.Key, app.SecretKey, demo.AccessToken, okru.WithAPIURL(srv.URL)), &okru.Options{Rate: okru.Unlimited})
	if _, err := userAPI.Call(t.Context(), "notifications.sendSimple", okru.Params{"uid": demo.UID, "text": "hi"}); !errors.Is(err, okru.ErrSessionProhibited) {
		t.Errorf("err = %v, want ErrSessionProhibited", err)
	}
	if n := len(srv.Calls()); n != 0 {
		t.Errorf("sandbox saw %d calls, want none", n)
	}
}

// TestSandboxPaging pages through the members of the demo user's largest
// group five at a time.
func TestSandboxPaging(t *testing.T) {
	t.Parallel()
	srv := newSandbox(t)
	api := sandboxAPI(srv, nil)
	ctx := t.Context()

	var groupIDs []string
	for raw, err := range api.Pages(ctx, "group.getUserGroupsV2", okru.Params{"count": 3}) {
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Groups []struct {
				GroupID string `json:"groupId"`
			} `json:"groups"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			t.Fatal(err)
		}
		for _, g := range page.Groups {
			groupIDs = append(groupIDs, g.GroupID)
		}
	}
	var infos []struct {
		UID     string `json:"uid"`
		Members int    `json:"members_count"`
	}
	if err := api.CallInto(ctx, "group.getInfo", okru.Params{"uids": groupIDs, "fields": "members_count"}, &infos); err != nil {
		t.Fatal(err)
	}
	largest := slices.MaxFunc(infos, func(a, b struct {
		UID     string `json:"uid"`
		Members int    `json:"members_count"`
	}) int {
		return a.Members - b.Members
	})
	if largest.Members <= 10 {
		t.Fatalf("largest group has %d members; the test needs several pages", largest.Members)
	}

	srv.Reset()
	seen := map[string]bool{}
	pages := 0
	for raw, err := range api.Pages(ctx, "group.getMembers", okru.Params{"uid": largest.UID, "count": 5}) {
		if err != nil {
			t.Fatal(err)
		}
		pages++
		var page struct {
			Members []struct {
				UserID string `json:"userId"`
			} `json:"members"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Members {
			if seen[m.UserID] {
				t.Errorf("member %s on two pages", m.UserID)
			}
			seen[m.UserID] = true
		}
	}
	if len(seen) != largest.Members {
		t.Errorf("paged %d members, group has %d", len(seen), largest.Members)
	}
	if want := (largest.Members + 4) / 5; pages != want || len(callsOf(srv, "group.getMembers")) != want {
		t.Errorf("%d pages and %d calls, want %d", pages, len(callsOf(srv, "group.getMembers")), want)
	}
}

// TestSandboxRetries: injected transient errors are ridden out, and the
// sandbox saw exactly the attempts expected.
func TestSandboxRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		method       string
		params       okru.Params
		rule         okrutest.ErrorRule
		opts         []okru.CallOption
		wantErr      bool
		wantAttempts int
	}{
		{name: "two failures on a read", method: "users.getCurrentUser",
			rule:         okrutest.ErrorRule{Method: "users.getCurrentUser", Code: okru.CodeService, Nth: 1, Times: 2},
			wantAttempts: 3},
		{name: "network timeout on a read", method: "friends.get",
			rule:         okrutest.ErrorRule{Method: "friends.get", Code: okru.CodeNetworkTimeout, Nth: 1, Times: 1},
			wantAttempts: 2},
		{name: "more failures than attempts", method: "users.getCurrentUser",
			rule:    okrutest.ErrorRule{Method: "users.getCurrentUser", Code: okru.CodeUnknown, Nth: 1, Times: 10},
			wantErr: true, wantAttempts: okru.DefaultMaxAttempts},
		{name: "write is not repeated", method: "mediatopic.post",
			params:  okru.Params{"type": "USER", "attachment": map[string]any{"media": []map[string]string{{"type": "text", "text": "hello"}}}},
			rule:    okrutest.ErrorRule{Method: "mediatopic.post", Code: okru.CodeService, Nth: 1, Times: 1},
			wantErr: true, wantAttempts: 1},
		{name: "write repeated when allowed", method: "mediatopic.post", opts: []okru.CallOption{okru.AllowRetry()},
			params:       okru.Params{"type": "USER", "attachment": map[string]any{"media": []map[string]string{{"type": "text", "text": "hello"}}}},
			rule:         okrutest.ErrorRule{Method: "mediatopic.post", Code: okru.CodeService, Nth: 1, Times: 1},
			wantAttempts: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newSandbox(t)
			srv.InjectError(tt.rule)
			api := sandboxAPI(srv, &okru.Options{Retry: fastRetry})
			retries := 0
			opts := append([]okru.CallOption{okru.OnRetry(func(okru.RetryInfo) { retries++ })}, tt.opts...)
			_, err := api.Call(t.Context(), tt.method, tt.params, opts...)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			calls := callsOf(srv, tt.method)
			if len(calls) != tt.wantAttempts || retries != tt.wantAttempts-1 {
				t.Errorf("sandbox saw %d attempts and OnRetry %d, want %d attempts", len(calls), retries, tt.wantAttempts)
			}
			for i, c := range calls {
				failed := c.Code != 0
				if wantFailed := tt.wantErr || i < len(calls)-1; failed != wantFailed {
					t.Errorf("attempt %d answered %d", i+1, c.Code)
				}
			}
		})
	}
}

// TestSandboxFloodLimit: against a per-token flood limit below the API's
// rate, every call still succeeds and the API slows itself down.
func TestSandboxFloodLimit(t *testing.T) {
	t.Parallel()
	srv := newSandbox(t)
	srv.SetFloodLimit(40, 4)
	const rate = 200.0
	api := sandboxAPI(srv, &okru.Options{Rate: rate, Burst: 10,
		Retry: okru.RetryPolicy{MaxAttempts: 12, MinBackoff: 5 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}})
	lowest := rate
	var mu sync.Mutex
	onRetry := okru.OnRetry(func(okru.RetryInfo) {
		mu.Lock()
		lowest = min(lowest, api.Rate())
		mu.Unlock()
	})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 10 {
				if _, err := api.Call(t.Context(), "users.getCurrentUser", nil, onRetry); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	flooded := 0
	for _, c := range callsOf(srv, "users.getCurrentUser") {
		if c.Code == okru.CodeFloodBlocked {
			flooded++
		}
	}
	if flooded == 0 {
		t.Fatal("the flood limit never answered 8: the test proves nothing")
	}
	if lowest >= rate {
		t.Errorf("rate never dropped below %v despite %d flood answers", rate, flooded)
	}
	t.Logf("%d flood answers; lowest rate %.1f calls/s", flooded, lowest)
}

// TestSandboxCancelDuringBackoff: cancelling while a retry waits ends the
// call at once; the sandbox saw the one attempt.
func TestSandboxCancelDuringBackoff(t *testing.T) {
	t.Parallel()
	srv := newSandbox(t)
	srv.InjectError(okrutest.ErrorRule{Method: "users.getCurrentUser", Code: okru.CodeService, Times: 100})
	api := sandboxAPI(srv, &okru.Options{Retry: okru.RetryPolicy{MinBackoff: time.Hour, MaxBackoff: time.Hour}})
	ctx, cancel := context.WithCancel(t.Context())
	_, err := api.Call(ctx, "users.getCurrentUser", nil, okru.OnRetry(func(okru.RetryInfo) { cancel() }))
	if !errors.Is(err, context.Canceled) || !errors.Is(err, okru.CodeService) {
		t.Fatalf("err = %v, want context.Canceled after SERVICE", err)
	}
	if n := len(callsOf(srv, "users.getCurrentUser")); n != 1 {
		t.Errorf("sandbox saw %d attempts, want 1", n)
	}
}

// TestSandboxCancelDuringLatency: a call held by a slow server ends when
// its context does, and is not retried.
func TestSandboxCancelDuringLatency(t *testing.T) {
	t.Parallel()
	srv := newSandbox(t)
	srv.SetLatency(time.Hour)
	api := sandboxAPI(srv, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	retried := false
	_, err := api.Call(ctx, "users.getCurrentUser", nil, okru.OnRetry(func(okru.RetryInfo) { retried = true }))
	var te *okru.TransportError
	if !errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a *TransportError wrapping context.DeadlineExceeded", err)
	}
	if retried {
		t.Error("a call whose context ended was retried")
	}
}

// TestSandboxRefresh: an expired token is refreshed through the hook and
// the call goes through with the new token.
func TestSandboxRefresh(t *testing.T) {
	t.Parallel()
	srv := newSandbox(t)
	app, demo := srv.App(), srv.DemoUser()
	old := srv.IssueToken(demo.UID, okrutest.Scopes...)
	srv.ExpireToken(old.AccessToken)
	var saved []okru.Token
	s := okru.ClientSession(app.Key, old.AccessToken, old.SessionSecretKey, okru.WithAPIURL(srv.URL),
		okru.WithRefreshToken("sandbox-refresh-token", func(t okru.Token) { saved = append(saved, t) }))
	s.SetRefresher(func(context.Context, *okru.Session) (okru.Token, error) {
		fresh := srv.IssueToken(demo.UID, okrutest.Scopes...)
		return okru.Token{AccessToken: fresh.AccessToken, SessionSecretKey: fresh.SessionSecretKey}, nil
	})
	api := okru.New(s, &okru.Options{Rate: okru.Unlimited})
	var uid string
	if err := api.CallInto(t.Context(), "users.getLoggedInUser", nil, &uid); err != nil {
		t.Fatal(err)
	}
	if uid != demo.UID {
		t.Errorf("uid = %q", uid)
	}
	if len(saved) != 1 || saved[0].AccessToken == old.AccessToken || saved[0].RefreshToken != "sandbox-refresh-token" {
		t.Errorf("onRefresh got %v", saved)
	}
	calls := callsOf(srv, "users.getLoggedInUser")
	if len(calls) != 2 || calls[0].Code != okru.CodeParamSessionExpired || calls[1].Code != 0 {
		t.Errorf("sandbox saw %+v, want an expired call then an accepted one", calls)
	}
}
