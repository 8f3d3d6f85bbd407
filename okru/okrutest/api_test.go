package okrutest

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/okru-run/okru-run/okru"
)

// The hand-written signer of these tests must itself be right: check it on
// the project's verified vectors before trusting any test built on it.
func TestIndependentSignerMatchesVectors(t *testing.T) {
	t.Parallel()
	f, err := os.Open("../data/signature-vectors.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		hashed, want := cols[3], cols[4]
		if strings.Contains(hashed, "<") {
			continue // the row describes its secret instead of spelling it out
		}
		if got := md5Hex(hashed); got != want {
			t.Errorf("vector %s: md5 of the hashed string = %s, want %s", cols[0], got, want)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no vectors read")
	}
	// And the signer builds the hashed string of V10 from its parameters.
	got := signIndependently(map[string]string{
		"application_key": "CBAFJIICABABABABA", "fields": "first_name,last_name", "format": "json",
		"method": "users.getInfo", "uids": "1,2,3", "access_token": "ignored", "sig": "ignored",
	}, "sessionsecret")
	if got != "823e5b7470caeb3b57f17323c9c9fc97" {
		t.Errorf("V10: got %s", got)
	}
}

func TestCircuitsAndFormsAccepted(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 1})
	demo := s.DemoUser()
	t.Run("calls", func(t *testing.T) {
		for _, circuit := range []string{circuitServer, circuitClient, circuitApp} {
			for _, form := range []string{postFBDo, getFBDo, postPath, getPath} {
				t.Run(circuit+"/"+form, func(t *testing.T) {
					t.Parallel()
					var c caller
					if circuit == circuitApp {
						c = appCaller(s)
					} else {
						c = demoCaller(s, circuit)
					}
					c.form = form
					if circuit == circuitApp {
						// users.getInfo needs a session from an external
						// application; users.isAppUser does not.
						result[bool](t, c, "users.isAppUser", map[string]string{"uid": demo.UID})
						return
					}
					users := result[[]map[string]any](t, c, "users.getInfo", map[string]string{"uids": demo.UID, "fields": "first_name"})
					if len(users) != 1 || users[0]["uid"] != demo.UID || users[0]["first_name"] != demo.FirstName {
						t.Fatalf("users.getInfo = %v, want the demo user", users)
					}
				})
			}
		}
	})
	// Each call is logged with the circuit the signature proved.
	byCircuit := map[string]int{}
	for _, c := range s.Calls() {
		byCircuit[c.Circuit]++
		if c.Code != 0 || (c.Method != "users.getInfo" && c.Method != "users.isAppUser") {
			t.Errorf("logged %+v", c)
		}
	}
	for _, circuit := range []string{circuitServer, circuitClient, circuitApp} {
		if byCircuit[circuit] != 4 {
			t.Errorf("%d calls logged with circuit %s, want 4", byCircuit[circuit], circuit)
		}
	}
}

// Values are signed raw as decoded from the form: empty values, non-ASCII
// text and characters that URL encoding changes must all verify.
func TestSignatureOverRawValues(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 2})
	c := demoCaller(s, circuitServer)
	attachment := `{"media":[{"type":"text","text":"Привет, мир! a+b&c=d %20 ?#"}]}`
	id := result[string](t, c, "mediatopic.post", map[string]string{
		"type": "USER", "attachment": attachment, "text_link_preview": "false", "devices": "",
	})
	got := result[map[string][]map[string]any](t, c, "mediatopic.getByIds", map[string]string{"topic_ids": id})
	topics := got["media_topics"]
	if len(topics) != 1 {
		t.Fatalf("getByIds(%s) = %v", id, got)
	}
	media := topics[0]["media"].([]any)[0].(map[string]any)
	if media["text"] != "Привет, мир! a+b&c=d %20 ?#" {
		t.Errorf("text came back as %q", media["text"])
	}
}

func TestChecksAnswerOkruErrors(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 3})
	demo := s.DemoUser()
	noScopes := s.IssueToken(demo.UID)
	expired := s.IssueToken(demo.UID, Scopes...)
	s.ExpireToken(expired.AccessToken)
	gid := s.graph.groups[0].gid

	server := demoCaller(s, circuitServer)
	client := demoCaller(s, circuitClient)
	app := appCaller(s)
	wrongKey := server
	wrongKey.app.Key = "NOTTHEKEY"
	wrongSecret := server
	wrongSecret.app.SecretKey = "0000"
	appWrongSecret := app
	appWrongSecret.app.SecretKey = "0000"
	tokenAppSigned := server
	tokenAppSigned.secretFor = func(map[string]string) string { return s.App().SecretKey }
	unknownToken := server
	unknownToken.token = "-s-notatoken"
	unknownClient := client
	unknownClient.token = "-s-notatoken"

	tests := []struct {
		name    string
		c       caller
		method  string
		params  map[string]string
		drop    string // parameter removed after signing
		code    okru.Code
		msgHas  string
		rawForm string // sent as is instead of the signed params
	}{
		{name: "unknown method", c: server, method: "users.getInfoo", code: okru.CodeMethod, msgHas: "users.getInfoo"},
		{name: "missing method", c: server, method: "", code: okru.CodeMethod, msgHas: "Method is missing"},
		{name: "catalog method not emulated", c: server, method: "users.getGames", code: okru.CodeMethod, msgHas: "not emulated"},
		{name: "missing application_key", c: server, method: "friends.get", drop: "application_key", code: okru.CodeParamAPIKey},
		{name: "unknown application_key", c: wrongKey, method: "friends.get", code: okru.CodeParamAPIKey},
		{name: "wrong server secret", c: wrongSecret, method: "friends.get", code: okru.CodeParamSignature},
		{name: "missing sig", c: server, method: "friends.get", drop: "sig", code: okru.CodeParamSignature},
		{name: "no session signed with wrong app secret", c: appWrongSecret, method: "users.getInfo", params: map[string]string{"uids": demo.UID, "fields": "name"}, code: okru.CodeParamSignature},
		{name: "token signed with app secret", c: tokenAppSigned, method: "friends.get", code: okru.CodeParamSignature},
		{name: "tampered after signing", c: client, method: "friends.get", params: map[string]string{"fid": demo.UID}, drop: "fid", code: okru.CodeParamSignature},
		{name: "unknown token server circuit", c: unknownToken, method: "friends.get", code: okru.CodeParamSessionKey},
		{name: "unknown token client circuit", c: unknownClient, method: "friends.get", code: okru.CodeParamSessionKey},
		{name: "expired token", c: tokenCaller(s, expired, circuitClient), method: "friends.get", code: okru.CodeParamSessionExpired},
		{name: "session required", c: app, method: "group.getMembers", params: map[string]string{"uid": gid}, code: okru.CodeSessionRequired},
		{name: "session prohibited", c: server, method: "users.updateMasks", params: map[string]string{"uids": demo.UID}, code: okru.CodeNotSessionMethod},
		{name: "missing permission", c: tokenCaller(s, noScopes, circuitServer), method: "friends.get", code: okru.CodePermissionDenied, msgHas: "VALUABLE_ACCESS"},
		{name: "none of two permissions", c: tokenCaller(s, s.IssueToken(demo.UID, "PHOTO_CONTENT"), circuitClient), method: "group.getMembers", params: map[string]string{"uid": gid}, code: okru.CodePermissionDenied, msgHas: "VALUABLE_ACCESS or GROUP_CONTENT"},
		{name: "missing required parameter", c: server, method: "users.getInfo", params: map[string]string{"uids": demo.UID}, code: okru.CodeParam, msgHas: "fields"},
		{name: "empty required parameter", c: server, method: "users.getInfo", params: map[string]string{"uids": "", "fields": "name"}, code: okru.CodeParam, msgHas: "uids"},
		{name: "session-less call must name the user", c: app, method: "friends.get", code: okru.CodeParam, msgHas: "fid"},
		{name: "unknown user", c: server, method: "friends.get", params: map[string]string{"fid": "123456789012"}, code: okru.CodeParamUserID},
		{name: "duplicate parameter", c: server, method: "friends.get", rawForm: "method=friends.get&method=friends.get", code: okru.CodeParam, msgHas: "once"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var a answer
			if tc.rawForm != "" {
				req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+"/fb.do", strings.NewReader(tc.rawForm))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				a = do(t, req)
			} else {
				p := tc.c.prepare(tc.method, tc.params)
				if tc.drop != "" {
					delete(p, tc.drop)
				}
				a = tc.c.send(t, tc.method, p)
			}
			checkErrorAnswer(t, a, tc.code, tc.msgHas)
		})
	}
}

// checkErrorAnswer checks ok.ru's error envelope to the byte where it
// matters: HTTP 200, Invocation-Error, the exact Content-Type, and
// error_msg starting with the code's name.
func checkErrorAnswer(t *testing.T, a answer, code okru.Code, msgHas string) {
	t.Helper()
	if a.status != http.StatusOK {
		t.Errorf("HTTP status %d, want 200", a.status)
	}
	if got := a.header.Get("Invocation-Error"); got != strconv.Itoa(int(code)) {
		t.Errorf("Invocation-Error = %q, want %d (body %s)", got, code, a.body)
	}
	if ct := a.header.Get("Content-Type"); ct != "application/json;charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if a.errorCode() != int(code) {
		t.Errorf("error_code = %d, want %d", a.errorCode(), code)
	}
	if msg := a.errorMsg(); !strings.HasPrefix(msg, code.Name()+" : ") || !strings.Contains(msg, msgHas) {
		t.Errorf("error_msg = %q, want %q prefix and %q in it", msg, code.Name()+" : ", msgHas)
	}
	if !strings.Contains(string(a.body), `"error_data":null`) {
		t.Errorf("body %s lacks error_data null", a.body)
	}
}

// Handler serves the same sandbox when mounted elsewhere.
func TestHandlerUnderHTTPTest(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 4})
	mounted := httptest.NewServer(s.Handler())
	defer mounted.Close()
	c := demoCaller(s, circuitClient)
	c.url = mounted.URL
	if got := result[string](t, c, "users.getLoggedInUser", nil); got != s.DemoUser().UID {
		t.Fatalf("got %s", got)
	}
	if len(s.Calls()) != 1 {
		t.Fatalf("%d calls in the server's log", len(s.Calls()))
	}
}

func TestResultsHaveExactContentType(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 4})
	for _, method := range []string{"users.getLoggedInUser", "friends.get", "users.isAppUser", "users.getCurrentUser"} {
		a := demoCaller(s, circuitServer).call(t, method, nil)
		if a.header.Get("Content-Type") != "application/json;charset=utf-8" || a.header.Get("Invocation-Error") != "" {
			t.Errorf("%s: Content-Type %q, Invocation-Error %q, body %s", method, a.header.Get("Content-Type"), a.header.Get("Invocation-Error"), a.body)
		}
	}
}

// Every method the sandbox emulates is a real ok.ru method of the catalog,
// so its session rule and permissions come from there.
func TestEmulatedMethodsAreInCatalog(t *testing.T) {
	t.Parallel()
	for name := range methodTable {
		if _, ok := okru.LookupMethod(name); !ok {
			t.Errorf("%s is emulated but not in the catalog", name)
		}
	}
}
