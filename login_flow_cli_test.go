package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// shellEval does what eval "$(okru-run login -env)" does with the export
// lines: it returns them as NAME=value pairs, unquoted.
func shellEval(t *testing.T, stdout string) []string {
	t.Helper()
	var out []string
	for line := range strings.Lines(stdout) {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "export ")
		name, quoted, ok2 := strings.Cut(rest, "=")
		if !ok || !ok2 || len(quoted) < 2 || quoted[0] != '\'' || quoted[len(quoted)-1] != '\'' {
			t.Fatalf("not an export line: %q", line)
		}
		out = append(out, name+"="+strings.ReplaceAll(quoted[1:len(quoted)-1], `'\''`, "'"))
	}
	return out
}

// checkRunExit wants exit 0.
func checkRunExit(t *testing.T, r cliResult, args []string) {
	t.Helper()
	if r.code != exitOK {
		t.Errorf("%v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
}

// copyExamples copies examples/ to a temporary folder, so that the runs'
// state journals (.okru-run/ beside each workflow) stay out of the
// repository.
func copyExamples(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "examples")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The regular files and the folders (Lua libraries, workflow folders
	// and their modules), not the state folders (.okru-run) the runs left
	// there.
	err := filepath.WalkDir("examples", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("examples", p)
		if d.IsDir() {
			if rel != "." && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestLoginDocRecipe follows the recipe of docs/login.md against
// an okru-run sandbox process: the banner's variables, eval "$(okru-run
// login -env)", then the examples as they are, with no other variable set.
// Then the same with the file login writes and run -credentials. No
// secret shows in stdout, stderr or -json.
func TestLoginDocRecipe(t *testing.T) {
	t.Parallel()
	sb := startSandboxProc(t, "-users", "60")
	banner := sb.banner
	env := []string{
		"OKRU_APP_ID=" + banner.AppID, "OKRU_APP_KEY=" + banner.AppKey, "OKRU_LOGIN=" + banner.User.Login,
		"OKRU_PASSWORD=" + banner.User.Password, "OKRU_CONNECT_URL=" + banner.ConnectURL, "OKRU_API_URL=" + banner.APIURL,
	}
	// The scope the recipe of docs/login.md asks for: post-and-read posts to a group.
	login := runCLI(t, env, "", "login", "-env", "-scope", "VALUABLE_ACCESS;GROUP_CONTENT")
	if login.code != exitOK {
		t.Fatalf("login -env: exit %d\n%s", login.code, login.stderr)
	}
	exported := shellEval(t, login.stdout)
	shell := append(slices.Clone(env), exported...)
	var token, ssk string
	for _, kv := range exported {
		if v, ok := strings.CutPrefix(kv, "OKRU_ACCESS_TOKEN="); ok {
			token = v
		}
		if v, ok := strings.CutPrefix(kv, "OKRU_SESSION_SECRET_KEY="); ok {
			ssk = v
		}
	}
	secrets := map[string]string{"password": banner.User.Password, "app secret key": banner.AppSecretKey,
		"access token": token, "session secret key": ssk}
	checkNoSecrets(t, login, map[string]string{"password": banner.User.Password, "app secret key": banner.AppSecretKey})

	dir := copyExamples(t)
	for _, name := range []string{"online-friends.hcl", "mutual-friends.hcl", "post-and-read.hcl", "whoami.hcl"} {
		ex := filepath.Join(dir, name)
		for _, json := range []bool{false, true} {
			args := []string{"run", ex}
			if json {
				args = []string{"run", "-json", ex}
			}
			r := runCLI(t, shell, "", args...)
			checkNoSecrets(t, r, secrets)
			checkRunExit(t, r, args)
		}
	}

	// The file login writes, read by run and plan with -credentials, with
	// nothing but the path given.
	file := filepath.Join(t.TempDir(), "okru", "credentials.json")
	if r := runCLI(t, env, "", "login", "-out", file, "-scope", "VALUABLE_ACCESS;GROUP_CONTENT"); r.code != exitOK {
		t.Fatalf("login -out: exit %d\n%s", r.code, r.stderr)
	}
	for _, args := range [][]string{
		{"run", "-credentials", file, filepath.Join(dir, "online-friends.hcl")},
		{"run", "-json", "-credentials", file, filepath.Join(dir, "mutual-friends.hcl")},
		{"plan", "-credentials", file, filepath.Join(dir, "whoami.hcl")},
		{"run", "-credentials", file, filepath.Join(dir, "friends-of-friends.lua"), "3"},
	} {
		r := runCLI(t, nil, "", args...)
		checkNoSecrets(t, r, secrets)
		checkRunExit(t, r, args)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), banner.User.Password) || strings.Contains(string(data), banner.AppSecretKey) {
		t.Error("the credentials file holds the password or the app secret key")
	}
}

// TestRunCredentialsFileChecks: -credentials refuses a file others may
// read, a missing file and one that is not login's, without printing what
// the file holds.
func TestRunCredentialsFileChecks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const token = "-s-TOKEN-0123456789abcdef"
	good := `{"app_id":"1","app_key":"KEY","access_token":"` + token + `","session_secret_key":"SSK-0123456789","api_url":"http://127.0.0.1:1/"}`
	write := func(name, text string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, file, want string
	}{
		{"readable by others", write("open.json", good, 0o644), "may be read by others (mode 0644); make it private with chmod 600"},
		{"missing", filepath.Join(dir, "none.json"), "-credentials: no file at the path given"},
		{"not JSON", write("bad.json", token+" not json", 0o600), "not a file okru-run login wrote (invalid JSON at byte"},
		{"no token", write("empty.json", `{"app_key":"KEY"}`, 0o600), "lacks the app key or the access token"},
		{"a folder", dir, "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, nil, "", "plan", "-credentials", tt.file, "examples/whoami.hcl")
			if r.code != exitInvalid || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, want 2 and %q\nstderr: %s", r.code, tt.want, r.stderr)
			}
			checkNoSecrets(t, r, map[string]string{"token": token, "session secret key": "SSK-0123456789"})
		})
	}
}
