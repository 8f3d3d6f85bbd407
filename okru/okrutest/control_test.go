package okrutest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/okru-run/okru-run/okru"
)

func control(t *testing.T, s *Server, method, path, body string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL+"/__sandbox/"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return do(t, req)
}

func TestControlEndpoint(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 30})
	c := demoCaller(s, circuitServer)

	a := control(t, s, http.MethodPost, "faults", `{"latency":"1ms","errors":[{"method":"friends.get","code":2,"nth":2}],"flood_limit":100,"flood_burst":50}`)
	if a.status != http.StatusOK || a.header.Get("Content-Type") != jsonContentType {
		t.Fatalf("POST faults: %d %s", a.status, a.body)
	}
	want := Faults{Latency: time.Millisecond, Errors: []ErrorRule{{Method: "friends.get", Code: 2, Nth: 2}}, FloodLimit: 100, FloodBurst: 50}
	var got Faults
	if err := json.Unmarshal(control(t, s, http.MethodGet, "faults", "").body, &got); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("GET faults = %+v, want %+v", got, want)
	}

	codes(t, c, "friends.get", map[string]string{"fid": s.graph.users[1].uid}, 2)
	var calls []Call
	a = control(t, s, http.MethodGet, "calls", "")
	if err := json.Unmarshal(a.body, &calls); err != nil || a.header.Get("Content-Type") != jsonContentType {
		t.Fatalf("GET calls: %v %s", err, a.body)
	}
	if len(calls) != 2 || calls[0].Code != 0 || calls[1].Code != okru.CodeService ||
		calls[1].Method != "friends.get" || calls[1].Params["fid"] != s.graph.users[1].uid || calls[1].UID != s.DemoUser().UID ||
		calls[1].Circuit != circuitServer || calls[1].Time.IsZero() {
		t.Fatalf("calls = %+v", calls)
	}

	// expire_tokens expires, and the other fields replace the faults.
	a = control(t, s, http.MethodPost, "faults", fmt.Sprintf(`{"expire_tokens":[%q]}`, s.DemoUser().AccessToken))
	if a.status != http.StatusOK {
		t.Fatalf("expire: %d %s", a.status, a.body)
	}
	checkErrorAnswer(t, c.call(t, "friends.get", nil), okru.CodeParamSessionExpired, "")
	if f := s.Faults(); f.Latency != 0 || len(f.Errors) != 0 || f.FloodLimit != 0 {
		t.Errorf("faults not replaced: %+v", f)
	}

	if a = control(t, s, http.MethodPost, "reset", ""); a.status != http.StatusNoContent {
		t.Fatalf("reset: %d", a.status)
	}
	if body := string(control(t, s, http.MethodGet, "calls", "").body); body != "[]\n" {
		t.Fatalf("calls after reset: %s", body)
	}
	result[[]string](t, c, "friends.get", nil) // the expiry was a fault: reset lifts it
}

func TestControlRejectsBadFaults(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 31})
	s.SetLatency(time.Millisecond)
	secret := "-s-SomeTokenThatIsNotIssued"
	tests := []struct{ name, body, msgHas string }{
		{"not JSON", `{`, "read faults"},
		{"unknown key", `{"latencyy":"1s"}`, "latencyy"},
		{"bad duration", `{"latency":"soon"}`, "latency"},
		{"invalid rule", `{"errors":[{"method":"friends.get"}]}`, "code"},
		{"unknown token", fmt.Sprintf(`{"expire_tokens":[%q]}`, secret), "expire_tokens[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := control(t, s, http.MethodPost, "faults", tc.body)
			if a.status != http.StatusBadRequest || !strings.Contains(string(a.body), tc.msgHas) {
				t.Fatalf("%d %s, want 400 mentioning %q", a.status, a.body, tc.msgHas)
			}
			if strings.Contains(string(a.body), secret) {
				t.Fatal("the error echoes the token")
			}
		})
	}
	if s.Faults().Latency != time.Millisecond {
		t.Error("a rejected request changed the faults")
	}
}

// No secret reaches the call log, the control endpoint or a String: not the
// tokens, the session secret, the app secret, the server-server secret, nor
// a signature.
func TestNoSecretsLeak(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 32})
	demo := s.DemoUser()
	app := s.App()
	secrets := []string{demo.AccessToken, demo.SessionSecretKey, demo.Password, app.SecretKey, md5Hex(demo.AccessToken + app.SecretKey)}
	for _, c := range []caller{demoCaller(s, circuitServer), demoCaller(s, circuitClient), appCaller(s)} {
		for _, method := range []string{"users.getInfo", "friends.get", "no.suchMethod"} {
			p := c.prepare(method, map[string]string{"uids": demo.UID, "fields": "name", "fid": demo.UID})
			secrets = append(secrets, p["sig"])
			c.send(t, method, p)
		}
	}
	// A legacy session_key and a wrong token are not recorded either.
	p := demoCaller(s, circuitClient).prepare("friends.get", nil)
	p["session_key"] = p["access_token"]
	delete(p, "access_token")
	p["sig"] = signIndependently(p, demo.SessionSecretKey)
	secrets = append(secrets, p["sig"])
	demoCaller(s, circuitClient).send(t, "friends.get", p)

	var dump strings.Builder
	dump.Write(control(t, s, http.MethodGet, "calls", "").body)
	dump.Write(control(t, s, http.MethodGet, "faults", "").body)
	for _, c := range s.Calls() {
		fmt.Fprintf(&dump, "%v %+v\n", c, c)
	}
	tok := s.IssueToken(demo.UID, "VALUABLE_ACCESS")
	secrets = append(secrets, tok.AccessToken, tok.SessionSecretKey)
	for _, v := range []any{demo, app, tok, &demo, &tok} {
		fmt.Fprintf(&dump, "%v %+v %#v %s\n", v, v, v, v)
	}
	for _, sec := range secrets {
		if sec == "" {
			t.Fatal("empty secret in the list")
		}
		if strings.Contains(dump.String(), sec) {
			t.Errorf("secret %.6s... leaked", sec)
		}
	}
	if len(s.Calls()) != 10 {
		t.Errorf("%d calls logged, want 10", len(s.Calls()))
	}
}

func TestCallLogLimit(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 33, MaxCalls: 4})
	c := demoCaller(s, circuitServer)
	for i := range 12 {
		c.call(t, "users.getInfo", map[string]string{"uids": s.graph.users[i].uid, "fields": "name"})
	}
	calls := s.Calls()
	if len(calls) < 4 || len(calls) > 5 {
		t.Fatalf("%d calls kept, want 4 or 5", len(calls))
	}
	if last := calls[len(calls)-1]; last.Params["uids"] != s.graph.users[11].uid {
		t.Fatalf("the newest call was dropped: %+v", last)
	}
}
