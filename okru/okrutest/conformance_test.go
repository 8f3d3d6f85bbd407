package okrutest

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/okru-run/okru-run/okru"
)

// conformanceCase checks one ok.ru behaviour the sandbox emulates, through
// real HTTP on loopback. Each case is a row of CONFORMANCE.md, which names
// it as TestConformance/<name>; TestConformanceTableNamesRealTests keeps
// the two in step.
type conformanceCase struct {
	name  string
	check func(t *testing.T, e *conformanceEnv)
}

// conformanceEnv is the sandbox the cases share, with ways to call it.
type conformanceEnv struct {
	s    *Server
	demo User
	gid  string // a group the demo user is a member of
}

// as returns a client-server caller for the demo user with exactly scopes.
func (e *conformanceEnv) as(scopes ...string) caller {
	return tokenCaller(e.s, e.s.IssueToken(e.demo.UID, scopes...), circuitClient)
}

// post sends params as a form to fb.do, signed over every parameter but
// sig and those in unsigned, with secret.
func (e *conformanceEnv) post(t *testing.T, params map[string]string, secret string, unsigned ...string) answer {
	t.Helper()
	p := map[string]string{"application_key": e.s.App().Key}
	for k, v := range params {
		p[k] = v
	}
	var keys []string
	for k := range p {
		if k != "sig" && !slices.Contains(unsigned, k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	h := md5.New()
	for _, k := range keys {
		io.WriteString(h, k+"="+p[k])
	}
	io.WriteString(h, secret)
	p["sig"] = hex.EncodeToString(h.Sum(nil))
	return appCaller(e.s).send(t, "", p)
}

// wantResult fails unless a is a result with ok.ru's headers.
func wantResult(t *testing.T, a answer) {
	t.Helper()
	if a.status != http.StatusOK || a.header.Get("Invocation-Error") != "" || a.header.Get("Content-Type") != jsonContentType {
		t.Fatalf("want a result, got %d %q %s", a.status, a.header.Get("Invocation-Error"), a.body)
	}
}

const textAttachment = `{"media":[{"type":"text","text":"hi"}]}`

var conformanceCases = []conformanceCase{
	// Signing.
	{"server-server circuit signed with md5(access_token + app secret)", func(t *testing.T, e *conformanceEnv) {
		token := e.demo.AccessToken
		wantResult(t, e.post(t, map[string]string{"method": "users.getLoggedInUser", "format": "json", "access_token": token},
			md5Hex(token+e.s.App().SecretKey), "access_token"))
	}},
	{"client-server circuit signed with the session secret key", func(t *testing.T, e *conformanceEnv) {
		wantResult(t, e.post(t, map[string]string{"method": "users.getLoggedInUser", "format": "json", "access_token": e.demo.AccessToken},
			e.demo.SessionSecretKey, "access_token"))
	}},
	{"no-session circuit signed with the app secret", func(t *testing.T, e *conformanceEnv) {
		wantResult(t, e.post(t, map[string]string{"method": "users.isAppUser", "format": "json", "uid": e.demo.UID}, e.s.App().SecretKey))
	}},
	{"access_token is left out of the signed text", func(t *testing.T, e *conformanceEnv) {
		a := e.post(t, map[string]string{"method": "users.getLoggedInUser", "format": "json", "access_token": e.demo.AccessToken},
			e.demo.SessionSecretKey) // signed with access_token in it
		checkErrorAnswer(t, a, okru.CodeParamSignature, "")
	}},
	{"session_key is accepted and signed", func(t *testing.T, e *conformanceEnv) {
		wantResult(t, e.post(t, map[string]string{"method": "users.getLoggedInUser", "format": "json", "session_key": e.demo.AccessToken},
			e.demo.SessionSecretKey))
	}},
	{"session_key left out of the signature is refused (unknown)", func(t *testing.T, e *conformanceEnv) {
		a := e.post(t, map[string]string{"method": "users.getLoggedInUser", "format": "json", "session_key": e.demo.AccessToken},
			e.demo.SessionSecretKey, "session_key")
		checkErrorAnswer(t, a, okru.CodeParamSignature, "")
	}},
	{"resig is left out of the signed text", func(t *testing.T, e *conformanceEnv) {
		wantResult(t, e.post(t, map[string]string{"method": "users.isAppUser", "uid": e.demo.UID, "resig": "x"}, e.s.App().SecretKey, "resig"))
	}},
	{"empty values are signed, not dropped", func(t *testing.T, e *conformanceEnv) {
		c := demoCaller(e.s, circuitServer)
		wantResult(t, c.call(t, "friends.get", map[string]string{"sort_type": ""}))
		// Signed as if the empty parameter were not there: refused.
		p := c.prepare("friends.get", nil)
		p["sort_type"] = ""
		checkErrorAnswer(t, c.send(t, "friends.get", p), okru.CodeParamSignature, "")
	}},
	{"format=JSON in capitals is accepted", func(t *testing.T, e *conformanceEnv) {
		wantResult(t, demoCaller(e.s, circuitClient).call(t, "users.getLoggedInUser", map[string]string{"format": "JSON"}))
	}},
	{"no format parameter is accepted", func(t *testing.T, e *conformanceEnv) {
		token := e.demo.AccessToken
		wantResult(t, e.post(t, map[string]string{"method": "users.getLoggedInUser", "access_token": token},
			md5Hex(token+e.s.App().SecretKey), "access_token"))
	}},
	{"platform=ANDROID is accepted and signed", func(t *testing.T, e *conformanceEnv) {
		wantResult(t, demoCaller(e.s, circuitClient).call(t, "users.getLoggedInUser", map[string]string{"platform": "ANDROID"}))
	}},
	{"method by path /api/group/method without a method parameter", func(t *testing.T, e *conformanceEnv) {
		c := demoCaller(e.s, circuitServer)
		c.form = postPath
		wantResult(t, c.call(t, "users.getLoggedInUser", nil))
	}},

	// Answers.
	{"errors are HTTP 200 with Invocation-Error and the JSON envelope", func(t *testing.T, e *conformanceEnv) {
		a := demoCaller(e.s, circuitServer).call(t, "group.getMembers", nil)
		checkErrorAnswer(t, a, okru.CodeParam, "uid")
		var env map[string]json.RawMessage
		if err := json.Unmarshal(a.body, &env); err != nil || len(env) != 3 || string(env["error_data"]) != "null" {
			t.Errorf("envelope %s: want exactly error_code, error_msg and error_data null", a.body)
		}
	}},
	{"ids are JSON strings", func(t *testing.T, e *conformanceEnv) {
		me := result[map[string]any](t, demoCaller(e.s, circuitServer), "users.getCurrentUser", nil)
		if _, ok := me["uid"].(string); !ok {
			t.Errorf("uid = %#v, want a string", me["uid"])
		}
	}},
	{"friends.get answers a bare array of id strings", func(t *testing.T, e *conformanceEnv) {
		ids := result[[]string](t, demoCaller(e.s, circuitServer), "friends.get", nil)
		if len(ids) == 0 || !isID(ids[0]) {
			t.Errorf("friends.get = %v", ids)
		}
	}},
	{"users.getInfo answers a bare array", func(t *testing.T, e *conformanceEnv) {
		users := result[[]map[string]any](t, demoCaller(e.s, circuitServer), "users.getInfo", map[string]string{"uids": e.demo.UID, "fields": "name"})
		if len(users) != 1 || users[0]["uid"] != e.demo.UID {
			t.Errorf("users.getInfo = %v", users)
		}
	}},
	{"users.getLoggedInUser answers a bare string", func(t *testing.T, e *conformanceEnv) {
		if uid := result[string](t, demoCaller(e.s, circuitServer), "users.getLoggedInUser", nil); uid != e.demo.UID {
			t.Errorf("uid = %q", uid)
		}
	}},
	{"users.isAppUser answers a bare boolean", func(t *testing.T, e *conformanceEnv) {
		result[bool](t, demoCaller(e.s, circuitServer), "users.isAppUser", nil)
	}},
	{"booleans True and False are refused (unknown)", func(t *testing.T, e *conformanceEnv) {
		a := demoCaller(e.s, circuitServer).call(t, "mediatopic.post", map[string]string{"type": "USER", "attachment": textAttachment, "hidden_post": "True"})
		checkErrorAnswer(t, a, okru.CodeParam, "hidden_post")
	}},
	{"unknown method answers 3 with a suggestion", func(t *testing.T, e *conformanceEnv) {
		checkErrorAnswer(t, demoCaller(e.s, circuitServer).call(t, "friends.gett", nil), okru.CodeMethod, "friends.get")
	}},
	{"a parameter sent twice is refused (unknown)", func(t *testing.T, e *conformanceEnv) {
		c := demoCaller(e.s, circuitServer)
		p := c.prepare("friends.get", nil)
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.s.URL+"/fb.do", strings.NewReader(encodeForm(p)+"&fid=1&fid=2"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		checkErrorAnswer(t, do(t, req), okru.CodeParam, "once")
	}},
	{"a raw ; inside a parameter is part of its value (unknown)", func(t *testing.T, e *conformanceEnv) {
		const fields = "first_name;last_name"
		for _, form := range []string{postFBDo, getFBDo, postPath, getPath} {
			c := demoCaller(e.s, circuitServer)
			c.form = form
			// Encoded as the official JS SDK and PHP clients do: ";" raw.
			encoded := strings.ReplaceAll(encodeForm(c.prepare("users.getCurrentUser", map[string]string{"fields": fields})), "%3B", ";")
			if !strings.Contains(encoded, "fields=first_name;last_name") {
				t.Fatalf("the test sends %q, without a raw ;", encoded)
			}
			wantResult(t, c.sendEncoded(t, "users.getCurrentUser", encoded))
		}
		n := 0
		for _, call := range e.s.Calls() {
			if call.Method == "users.getCurrentUser" && call.Params["fields"] == fields {
				n++
			}
		}
		if n != 4 {
			t.Errorf("%d calls logged with fields=%s, want 4 (fb.do and /api/, GET and POST)", n, fields)
		}
	}},

	// Sessions.
	{"session required: 453 without a session", func(t *testing.T, e *conformanceEnv) {
		checkErrorAnswer(t, appCaller(e.s).call(t, "users.getCurrentUser", nil), okru.CodeSessionRequired, "session")
	}},
	{"session prohibited: 451 with a session", func(t *testing.T, e *conformanceEnv) {
		a := demoCaller(e.s, circuitServer).call(t, "notifications.sendSimple", map[string]string{"uid": e.demo.UID, "text": "hi"})
		checkErrorAnswer(t, a, okru.CodeNotSessionMethod, "without a session")
	}},
	{"session optional: works without a session", func(t *testing.T, e *conformanceEnv) {
		result[bool](t, appCaller(e.s), "users.isAppUser", map[string]string{"uid": e.demo.UID})
	}},
	{"required for external applications: 453 without a session", func(t *testing.T, e *conformanceEnv) {
		app := appCaller(e.s)
		for method, params := range map[string]map[string]string{
			"users.getInfo":         {"uids": e.demo.UID, "fields": "name"},
			"url.getInfo":           {"url": "https://ok.ru/"},
			"group.getCounters":     {"group_id": e.gid, "counterTypes": "members"},
			"users.getCallsLeft":    {"methods": "friends.get"},
			"photosV2.getUploadUrl": nil,
		} {
			checkErrorAnswer(t, app.call(t, method, params), okru.CodeSessionRequired, method)
		}
	}},
	{"required for external applications: works with a session", func(t *testing.T, e *conformanceEnv) {
		wantResult(t, e.as("VALUABLE_ACCESS").call(t, "users.getInfo", map[string]string{"uids": e.demo.UID, "fields": "name"}))
	}},
	{"like.like requires a session", func(t *testing.T, e *conformanceEnv) {
		checkErrorAnswer(t, appCaller(e.s).call(t, "like.like", map[string]string{"like_id": "1"}), okru.CodeSessionRequired, "")
	}},

	// Permissions.
	{"a missing permission answers 10 naming it", func(t *testing.T, e *conformanceEnv) {
		checkErrorAnswer(t, e.as().call(t, "friends.get", nil), okru.CodePermissionDenied, "VALUABLE_ACCESS")
	}},
	{"any one permission of the list is enough (unknown)", func(t *testing.T, e *conformanceEnv) {
		wantResult(t, e.as("VALUABLE_ACCESS").call(t, "group.getMembers", map[string]string{"uid": e.gid}))
		wantResult(t, e.as("GROUP_CONTENT").call(t, "group.getMembers", map[string]string{"uid": e.gid}))
	}},
	{"none of the list answers 10 naming them all", func(t *testing.T, e *conformanceEnv) {
		a := e.as("PHOTO_CONTENT").call(t, "group.getMembers", map[string]string{"uid": e.gid})
		checkErrorAnswer(t, a, okru.CodePermissionDenied, "VALUABLE_ACCESS or GROUP_CONTENT")
	}},
	{"mediatopic.post with gid needs GROUP_CONTENT", func(t *testing.T, e *conformanceEnv) {
		params := map[string]string{"type": "GROUP_THEME", "gid": e.gid, "attachment": textAttachment}
		checkErrorAnswer(t, e.as("VALUABLE_ACCESS").call(t, "mediatopic.post", params), okru.CodePermissionDenied, "GROUP_CONTENT")
		wantResult(t, e.as("GROUP_CONTENT").call(t, "mediatopic.post", params))
	}},
	{"mediatopic.post to the user's feed needs no permission", func(t *testing.T, e *conformanceEnv) {
		wantResult(t, e.as().call(t, "mediatopic.post", map[string]string{"type": "USER", "attachment": textAttachment}))
	}},
	{"mediatopic.post type=USER_STATUS needs SET_STATUS", func(t *testing.T, e *conformanceEnv) {
		a := e.as("VALUABLE_ACCESS").call(t, "mediatopic.post", map[string]string{"type": "USER_STATUS", "attachment": textAttachment})
		checkErrorAnswer(t, a, okru.CodePermissionDenied, "SET_STATUS")
	}},
	{"mediatopic.post set_status=true needs SET_STATUS", func(t *testing.T, e *conformanceEnv) {
		params := map[string]string{"type": "USER", "attachment": textAttachment, "set_status": "true"}
		checkErrorAnswer(t, e.as("VALUABLE_ACCESS").call(t, "mediatopic.post", params), okru.CodePermissionDenied, "SET_STATUS")
		wantResult(t, e.as("SET_STATUS").call(t, "mediatopic.post", params))
	}},
	{"mediatopic.post type=USER_NOTE needs PUBLISH_NOTE", func(t *testing.T, e *conformanceEnv) {
		a := e.as("SET_STATUS").call(t, "mediatopic.post", map[string]string{"type": "USER_NOTE", "attachment": textAttachment})
		checkErrorAnswer(t, a, okru.CodePermissionDenied, "PUBLISH_NOTE")
	}},
	{"users.getCurrentUser needs no permission", func(t *testing.T, e *conformanceEnv) {
		me := result[map[string]any](t, e.as(), "users.getCurrentUser", nil)
		if me["uid"] != e.demo.UID {
			t.Errorf("uid = %v", me["uid"])
		}
	}},
	{"email is left out without GET_EMAIL", func(t *testing.T, e *conformanceEnv) {
		me := result[map[string]any](t, e.as("VALUABLE_ACCESS"), "users.getCurrentUser", map[string]string{"fields": "uid,email"})
		if _, has := me["email"]; has || me["uid"] != e.demo.UID {
			t.Errorf("users.getCurrentUser = %v, want uid without email", me)
		}
	}},
	{"email is answered with GET_EMAIL", func(t *testing.T, e *conformanceEnv) {
		me := result[map[string]any](t, e.as("GET_EMAIL"), "users.getCurrentUser", map[string]string{"fields": "uid,email"})
		if me["email"] != e.demo.Login {
			t.Errorf("email = %v, want %s", me["email"], e.demo.Login)
		}
	}},
	{"group.getInfo needs no permission (unknown)", func(t *testing.T, e *conformanceEnv) {
		wantResult(t, e.as().call(t, "group.getInfo", map[string]string{"uids": e.gid, "fields": "name"}))
	}},

	// Required parameters.
	{"a missing required parameter answers 100 naming it", func(t *testing.T, e *conformanceEnv) {
		a := demoCaller(e.s, circuitServer).call(t, "users.getInfo", map[string]string{"uids": e.demo.UID})
		checkErrorAnswer(t, a, okru.CodeParam, "Missing required parameter fields")
	}},
	{"an empty required parameter counts as missing (unknown)", func(t *testing.T, e *conformanceEnv) {
		a := demoCaller(e.s, circuitServer).call(t, "group.getMembers", map[string]string{"uid": ""})
		checkErrorAnswer(t, a, okru.CodeParam, "uid")
	}},
	{"mediatopic.post requires type and attachment", func(t *testing.T, e *conformanceEnv) {
		c := demoCaller(e.s, circuitServer)
		checkErrorAnswer(t, c.call(t, "mediatopic.post", map[string]string{"attachment": textAttachment}), okru.CodeParam, "type")
		checkErrorAnswer(t, c.call(t, "mediatopic.post", map[string]string{"type": "USER"}), okru.CodeParam, "attachment")
	}},
	{"parameters the catalog does not require may be left out", func(t *testing.T, e *conformanceEnv) {
		wantResult(t, demoCaller(e.s, circuitServer).call(t, "group.getMembers", map[string]string{"uid": e.gid}))
	}},
	{"permissions are checked before required parameters (unknown)", func(t *testing.T, e *conformanceEnv) {
		checkErrorAnswer(t, e.as().call(t, "mediatopic.post", map[string]string{"gid": e.gid}), okru.CodePermissionDenied, "GROUP_CONTENT")
	}},
	{"the session is checked before required parameters (unknown)", func(t *testing.T, e *conformanceEnv) {
		checkErrorAnswer(t, appCaller(e.s).call(t, "users.getInfo", nil), okru.CodeSessionRequired, "")
	}},
}

// TestConformance runs the cases CONFORMANCE.md lists as
// TestConformance/<name>, against one sandbox.
func TestConformance(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{Seed: 21})
	e := &conformanceEnv{s: s, demo: s.DemoUser(), gid: s.graph.groups[0].gid}
	if !s.graph.groups[0].isMember(demoIndex) {
		t.Fatal("the demo user is not a member of the first group")
	}
	for _, tc := range conformanceCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.check(t, e)
		})
	}
}

// TestConformanceTableNamesRealTests: every test CONFORMANCE.md names
// exists in the package its prefix says (a Test function of this package,
// one of okru written okru.X, or a case of TestConformance), and every
// case of TestConformance has a row.
func TestConformanceTableNamesRealTests(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("CONFORMANCE.md")
	if err != nil {
		t.Fatal(err)
	}
	// The tests of each package, by the prefix the table writes them with.
	funcs := map[string]map[string]bool{}
	for prefix, pattern := range map[string]string{"": "*_test.go", "okru.": "../*_test.go"} {
		funcs[prefix] = map[string]bool{}
		files, _ := filepath.Glob(pattern)
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range regexp.MustCompile(`(?m)^func (Test\w+)\(`).FindAllSubmatch(src, -1) {
				funcs[prefix][string(m[1])] = true
			}
		}
	}
	cases := map[string]bool{}
	for _, c := range conformanceCases {
		cases[c.name] = true
	}
	listed := map[string]bool{}
	rows := 0
	for line := range strings.SplitSeq(string(doc), "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| Behaviour") || strings.HasPrefix(line, "| ---") {
			continue
		}
		cols := strings.Split(line, " | ")
		test := strings.Trim(strings.TrimSpace(strings.TrimSuffix(cols[len(cols)-1], "|")), "`")
		if test == "" || strings.HasPrefix(test, "(") {
			continue // a placeholder row
		}
		rows++
		for _, ref := range strings.Split(test, "`, `") {
			fn, sub, _ := strings.Cut(strings.Trim(ref, "`"), "/")
			fn = strings.TrimPrefix(fn, "okrutest.")
			prefix := ""
			if name, ok := strings.CutPrefix(fn, "okru."); ok {
				prefix, fn = "okru.", name
			}
			switch {
			case !funcs[prefix][fn] && prefix == "" && funcs["okru."][fn]:
				t.Errorf("CONFORMANCE.md names %s, a test of package okru: write it okru.%s", ref, ref)
			case !funcs[prefix][fn] && prefix == "okru." && funcs[""][fn]:
				t.Errorf("CONFORMANCE.md names %s, a test of package okrutest: write it without okru.", ref)
			case !funcs[prefix][fn]:
				t.Errorf("CONFORMANCE.md names %s, which is not a test of okru or okrutest", ref)
			case fn == "TestConformance" && !cases[sub]:
				t.Errorf("CONFORMANCE.md names TestConformance/%s, which is not a case", sub)
			case fn == "TestConformance":
				listed[sub] = true
			}
		}
	}
	for name := range cases {
		if !listed[name] {
			t.Errorf("TestConformance/%s has no row in CONFORMANCE.md", name)
		}
	}
	if rows < 40 {
		t.Errorf("CONFORMANCE.md has %d rows with a test, want at least 40", rows)
	}
}
