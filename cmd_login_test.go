package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/okru-run/okru-run/okru"
	"github.com/okru-run/okru-run/okru/okrutest"
)

// loginEnv is the environment of okru-run login against a sandbox, as a
// user would give it: app and login in variables, the password in
// OKRU_PASSWORD.
func loginEnv(srv *okrutest.Server, password string) []string {
	app, demo := srv.App(), srv.DemoUser()
	return []string{
		"OKRU_APP_ID=" + app.ID, "OKRU_APP_KEY=" + app.Key, "OKRU_LOGIN=" + demo.Login,
		"OKRU_PASSWORD=" + password, "OKRU_CONNECT_URL=" + srv.URL, "OKRU_API_URL=" + srv.URL,
	}
}

// checkNoSecrets fails if any secret shows in the outputs.
func checkNoSecrets(t *testing.T, r cliResult, secrets map[string]string) {
	t.Helper()
	for what, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
			t.Errorf("the output shows the %s:\nstdout: %s\nstderr: %s", what, r.stdout, r.stderr)
		}
	}
}

// callAs checks that saved credentials work: the token calls the API as
// the demo user.
func callAs(t *testing.T, srv *okrutest.Server, appKey, token, ssk string) {
	t.Helper()
	s := okru.ClientSession(appKey, token, ssk, okru.WithAPIURL(srv.URL))
	var uid string
	if err := okru.New(s, &okru.Options{Rate: okru.Unlimited}).CallInto(t.Context(), "users.getLoggedInUser", nil, &uid); err != nil || uid != srv.DemoUser().UID {
		t.Fatalf("the saved token: uid %q, %v", uid, err)
	}
}

func TestLoginWritesCredentials(t *testing.T) {
	t.Parallel()
	srv := okrutest.NewServer(okrutest.Config{Seed: 70, Users: 30})
	t.Cleanup(srv.Close)
	demo := srv.DemoUser()
	dir := filepath.Join(t.TempDir(), "conf")
	out := filepath.Join(dir, "creds.json")
	// An older, world-readable credentials file, as login wrote them
	// before the "okru-run" key, is replaced by a private one.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old := `{"app_id": "1", "app_key": "K", "access_token": "old-token", "permissions": null, "logged_in_at": "2024-01-01T00:00:00Z"}`
	if err := os.WriteFile(out, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, loginEnv(srv, demo.Password), "", "login", "-out", out, "-scope", "valuable_access;PHOTO_CONTENT")
	if r.code != exitOK || r.stdout != "" || !strings.Contains(r.stderr, "logged in as user "+demo.UID) || !strings.Contains(r.stderr, out+" (mode 0600)") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	st, err := os.Stat(out)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v, mode %v; want 0600", err, st.Mode())
	}
	var creds credentialsFile
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &creds); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "{\n  \"okru-run\": \"credentials\",\n") {
		t.Errorf("the file does not open with the okru-run key:\n%s", b)
	}
	if creds.AppID != srv.App().ID || creds.UID != demo.UID || creds.APIURL != srv.URL || creds.ExpiresAt.IsZero() ||
		!slices.Equal(creds.Permissions, []string{"VALUABLE_ACCESS", "PHOTO_CONTENT"}) {
		t.Errorf("credentials %s", b)
	}
	if strings.Contains(string(b), demo.Password) || strings.Contains(string(b), srv.App().SecretKey) {
		t.Errorf("the file holds the password or the app secret key:\n%s", b)
	}
	callAs(t, srv, creds.AppKey, creds.AccessToken, creds.SessionSecretKey)
	checkNoSecrets(t, r, map[string]string{"password": demo.Password, "access token": creds.AccessToken, "session secret key": creds.SessionSecretKey})
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the folder holds %d files, want the credentials only", len(entries))
	}
}

// TestLoginDefaultFile: without -out the file goes to the user's config
// folder, created private.
func TestLoginDefaultFile(t *testing.T) {
	t.Parallel()
	srv := okrutest.NewServer(okrutest.Config{Seed: 71, Users: 30})
	t.Cleanup(srv.Close)
	home := t.TempDir()
	env := append(loginEnv(srv, srv.DemoUser().Password), "HOME="+home, "XDG_CONFIG_HOME=")
	if r := runCLI(t, env, "", "login"); r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	path := filepath.Join(home, ".config", "okru-run", "credentials.json")
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, mode %v", path, err, st.Mode())
	}
	if st, err := os.Stat(filepath.Dir(path)); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("the folder: %v, mode %v; want 0700", err, st.Mode())
	}
}

// TestLoginEnv: -env prints export lines to eval, and writes no file.
func TestLoginEnv(t *testing.T) {
	t.Parallel()
	srv := okrutest.NewServer(okrutest.Config{Seed: 72, Users: 30})
	t.Cleanup(srv.Close)
	home := t.TempDir()
	env := append(loginEnv(srv, srv.DemoUser().Password), "HOME="+home)
	r := runCLI(t, env, "", "login", "-env")
	if r.code != exitOK || !strings.Contains(r.stderr, "eval") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	vars := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	for sc.Scan() {
		name, value, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "=")
		if !ok || !strings.HasPrefix(sc.Text(), "export ") || !strings.HasPrefix(value, "'") || !strings.HasSuffix(value, "'") {
			t.Fatalf("not an export line: %q", sc.Text())
		}
		vars[name] = strings.Trim(value, "'")
	}
	if vars["OKRU_APP_ID"] != srv.App().ID || vars["OKRU_API_URL"] != srv.URL || len(vars) != 5 {
		t.Errorf("exports %v", vars)
	}
	callAs(t, srv, vars["OKRU_APP_KEY"], vars["OKRU_ACCESS_TOKEN"], vars["OKRU_SESSION_SECRET_KEY"])
	if strings.Contains(r.stderr, vars["OKRU_ACCESS_TOKEN"]) || strings.Contains(r.stdout+r.stderr, srv.DemoUser().Password) {
		t.Errorf("stderr shows the token or the password: %s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(home, ".config", "okru-run")); !os.IsNotExist(err) {
		t.Errorf("-env wrote a file: %v", err)
	}
}

func TestLoginFailures(t *testing.T) {
	t.Parallel()
	srv := okrutest.NewServer(okrutest.Config{Seed: 73, Users: 30})
	t.Cleanup(srv.Close)
	captcha := okrutest.NewServer(okrutest.Config{Seed: 73, Users: 30, Faults: okrutest.Faults{LoginCaptcha: true}})
	t.Cleanup(captcha.Close)
	const wrong = "Wrong-Password-0123"
	without := func(env []string, name string) []string {
		return slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, name+"=") })
	}
	good := loginEnv(srv, srv.DemoUser().Password)
	tests := []struct {
		name string
		env  []string
		args []string
		code int
		msg  string
	}{
		{"wrong password", loginEnv(srv, wrong), nil, exitFailed, "wrong login or password"},
		{"captcha", loginEnv(captcha, captcha.DemoUser().Password), nil, exitFailed, "captcha"},
		{"no password and no terminal", without(good, "OKRU_PASSWORD"), nil, exitInvalid, "set OKRU_PASSWORD"},
		{"password as a flag", good, []string{"-password", wrong}, exitInvalid, "never taken as a flag"},
		{"password as a flag with =", good, []string{"--password=" + wrong}, exitInvalid, "never taken as a flag"},
		{"no app id", without(good, "OKRU_APP_ID"), nil, exitInvalid, "the app id (-app-id or OKRU_APP_ID)"},
		{"no login", without(good, "OKRU_LOGIN"), nil, exitInvalid, "the login (-login or OKRU_LOGIN)"},
		{"empty scope", good, []string{"-scope", " "}, exitInvalid, "-scope is empty"},
		{"argument", good, []string{"extra"}, exitInvalid, "an argument is not a flag (not shown: it may be a value); login takes flags only"},
		{"unknown flag", good, []string{"-nope"}, exitInvalid, "not a flag this command knows"},
		{"nobody listening", append(slices.Clone(good), "OKRU_CONNECT_URL=http://127.0.0.1:1"), nil, exitFailed, "authorize page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "creds.json")
			r := runCLI(t, tt.env, "", append([]string{"login", "-out", out}, tt.args...)...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.msg) || r.stdout != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d and %q", r.code, r.stdout, r.stderr, tt.code, tt.msg)
			}
			if strings.Contains(r.stderr, "login: okru login:") {
				t.Errorf("the prefix is doubled: %q", r.stderr)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a credentials file was written: %v", err)
			}
			checkNoSecrets(t, r, map[string]string{"wrong password": wrong, "password": srv.DemoUser().Password})
		})
	}
}

// TestLoginBadScopeFlag: a bad -scope is a diagnostic naming the flag and
// the scope, before the password is read or anything is sent.
func TestLoginBadScopeFlag(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "no request was expected", http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	const password = "Password-0123456789"
	env := []string{"OKRU_APP_ID=512000000001", "OKRU_APP_KEY=CBAKEY", "OKRU_LOGIN=demo",
		"OKRU_PASSWORD=" + password, "OKRU_CONNECT_URL=" + srv.URL, "OKRU_API_URL=" + srv.URL}
	tests := []struct{ scope, msg string }{
		{"FOO", `-scope: unknown scope "FOO"; known scopes: VALUABLE_ACCESS;`},
		{"VALUABLE_ACESS", `-scope: unknown scope "VALUABLE_ACESS"; did you mean VALUABLE_ACCESS?`},
		{"VALUABLE_ACCESS;;GET_EMAIL", "-scope: name 2 of the scope list is empty"},
		{"VALUABLE_ACCESS;", "-scope: name 2 of the scope list is empty"},
		{"GET_EMAIL,VALUABLE_ACCESS,get_email", "-scope: the scope list names GET_EMAIL twice"},
		{"VALUABLE_ACCESS;-s-abc123secret", "-scope: name 2 of the scope list is not a scope"},
	}
	for _, tt := range tests {
		t.Run(tt.scope, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "creds.json")
			r := runCLI(t, env, "", "login", "-out", out, "-scope", tt.scope)
			if r.code != exitInvalid || r.stdout != "" || !strings.Contains(r.stderr, "okru-run login: "+tt.msg) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d and %q", r.code, r.stdout, r.stderr, exitInvalid, tt.msg)
			}
			checkNoSecrets(t, r, map[string]string{"password": password, "token-like value": "ABC123SECRET"})
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a credentials file was written: %v", err)
			}
		})
	}
	t.Cleanup(func() {
		if n := hits.Load(); n != 0 {
			t.Errorf("the server got %d requests; a bad -scope must send none", n)
		}
	})
}

// TestLoginKeepsOtherFiles: login -out refuses a file that is neither
// empty nor credentials it wrote, before the password is read or
// anything sent, and the file keeps its bytes and its mode.
func TestLoginKeepsOtherFiles(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "no request was expected", http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	env := []string{"OKRU_APP_ID=512000000001", "OKRU_APP_KEY=CBAKEY", "OKRU_LOGIN=demo",
		"OKRU_PASSWORD=Password-0123456789", "OKRU_CONNECT_URL=" + srv.URL, "OKRU_API_URL=" + srv.URL}
	tests := []struct {
		name, content string
		mode          os.FileMode
	}{
		{"a text file", "precious\n", 0o644},
		{"a private text file", "precious\n", 0o600},
		{"JSON of another tool", `{"access_token": "mine", "note": "precious"}`, 0o600},
		{"credentials followed by more", `{"okru-run": "credentials", "access_token": "t"}` + "\nprecious\n", 0o600},
		{"a journal", `{"okru-run":"journal","version":2}` + "\n", 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "notes.json")
			if err := os.WriteFile(out, []byte(tt.content), tt.mode); err != nil {
				t.Fatal(err)
			}
			r := runCLI(t, env, "", "login", "-out", out)
			want := "okru-run login: -out: " + out + " is neither empty nor a credentials file okru-run login wrote; it was left as it is"
			if r.code != exitInvalid || r.stdout != "" || !strings.Contains(r.stderr, want) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d and %q", r.code, r.stdout, r.stderr, exitInvalid, want)
			}
			if strings.Contains(r.stderr, "precious") {
				t.Errorf("the message quotes the file: %s", r.stderr)
			}
			fi, err := os.Stat(out)
			data, _ := os.ReadFile(out)
			if err != nil || fi.Mode().Perm() != tt.mode || string(data) != tt.content {
				t.Errorf("the file changed: mode %v, %q; was %v, %q", fi.Mode(), data, tt.mode, tt.content)
			}
			if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 1 {
				t.Errorf("the folder holds %d files, want the user's only", len(entries))
			}
		})
	}
	t.Cleanup(func() {
		if n := hits.Load(); n != 0 {
			t.Errorf("the server got %d requests; a refused -out must send none", n)
		}
	})
}

// TestLoginAgainstSandboxProcess: the login and password of okru-run
// sandbox's banner work on its login form, through okru-run login.
func TestLoginAgainstSandboxProcess(t *testing.T) {
	t.Parallel()
	banner := startSandboxProc(t, "-users", "20").banner
	env := []string{
		"OKRU_APP_ID=" + banner.AppID, "OKRU_APP_KEY=" + banner.AppKey, "OKRU_LOGIN=" + banner.User.Login,
		"OKRU_PASSWORD=" + banner.User.Password, "OKRU_CONNECT_URL=" + banner.ConnectURL, "OKRU_API_URL=" + banner.APIURL,
	}
	r := runCLI(t, env, "", "login", "-env", "-scope", "VALUABLE_ACCESS,LONG_ACCESS_TOKEN")
	if r.code != exitOK || !strings.Contains(r.stderr, "logged in as user "+banner.User.UID+" with VALUABLE_ACCESS;LONG_ACCESS_TOKEN") ||
		!strings.Contains(r.stdout, "export OKRU_ACCESS_TOKEN=") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	checkNoSecrets(t, r, map[string]string{"password": banner.User.Password, "app secret key": banner.AppSecretKey})
}
