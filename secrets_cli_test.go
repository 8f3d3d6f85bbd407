package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/okru-run/okru-run/okru/okrutest"
)

// The dodges of issue 11 that reach a user through the binary: secrets
// that come back escaped, a short PIN, a credential that no session uses,
// a token as a script's argument, the resume command.

// secretForms are the ways s may be written out: as it is, JSON-escaped
// with and without HTML escapes (as Go's encoder and Lua's write them),
// HCL-escaped and URL-encoded.
func secretForms(s string) []string {
	forms := []string{s, url.QueryEscape(s), url.PathEscape(s)}
	b, _ := json.Marshal(s)
	forms = append(forms, string(b[1:len(b)-1]))
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	forms = append(forms, strings.TrimSpace(buf.String())[1:len(strings.TrimSpace(buf.String()))-1])
	hcl := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "${", "$${", "%{", "%%{").Replace(s)
	return append(forms, hcl)
}

func assertNotShown(t *testing.T, where, text string, secrets map[string]string) {
	t.Helper()
	for kind, s := range secrets {
		for _, f := range secretForms(s) {
			if strings.Contains(text, f) {
				t.Errorf("%s shows the %s as %q:\n%s", where, kind, f, text)
				break
			}
		}
	}
}

// assertNoSecretInJSON decodes every NDJSON line of out and checks each
// string in it, keys too, for every form of the secrets; a string that is
// itself JSON (a server's answer quoted in a message) is decoded and
// checked in turn. A secret escaped once inside a message is escaped twice
// on the line, which no form of it matches: only the decoded strings show
// what a consumer of -json reads.
func assertNoSecretInJSON(t *testing.T, out string, secrets map[string]string) {
	t.Helper()
	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch v := v.(type) {
		case string:
			assertNotShown(t, where, v, secrets)
			var inner any
			if json.Valid([]byte(v)) && json.Unmarshal([]byte(v), &inner) == nil {
				walk(where+" (decoded)", inner)
			}
		case []any:
			for i, e := range v {
				walk(fmt.Sprintf("%s[%d]", where, i), e)
			}
		case map[string]any:
			for k, e := range v {
				walk(where+" key", k)
				walk(where+"."+k, e)
			}
		}
	}
	for i, line := range jsonLines(t, out) {
		walk(fmt.Sprintf("-json line %d", i+1), line)
	}
}

func TestRedactionCannotBeDodged(t *testing.T) {
	t.Parallel()
	srv := okrutest.NewServer(okrutest.Config{Seed: 11, Users: 30})
	t.Cleanup(srv.Close)
	env, secrets := credentialsEnv(srv, "unused-password")
	const pass, pin = `Secret&Pass<1>"\x`, "Q7zK9"
	secrets["escaped password"] = pass
	secrets["pin"] = pin
	t.Run("credential output", func(t *testing.T) {
		t.Parallel()
		r := runCLI(t, env, "", "run", "-json", "testdata/secrets/env_output.hcl")
		if r.code != exitInvalid || !strings.Contains(r.stderr, "sensitive") {
			t.Errorf("exit %d, want 2 and why; stderr:\n%s", r.code, r.stderr)
		}
		assertNotShown(t, "stdout", r.stdout, secrets)
		assertNotShown(t, "stderr", r.stderr, secrets)
	})
	for _, mode := range []string{"text", "json"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			state := filepath.Join(t.TempDir(), "dodge.journal")
			args := []string{"run", "-state", state, "-var", "pass=" + pass, "-var", "pin=" + pin}
			if mode == "json" {
				args = append(args, "-json")
			}
			r := runCLI(t, env, "", append(args, "testdata/secrets/dodge.hcl")...)
			if r.code != exitOK {
				t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr+r.stdout, "json:") {
				t.Fatalf("the script's log is missing, the test tests nothing:\n%s", r.stderr+r.stdout)
			}
			journal, err := os.ReadFile(state)
			if err != nil {
				t.Fatal(err)
			}
			assertNotShown(t, "stdout", r.stdout, secrets)
			assertNotShown(t, "stderr", r.stderr, secrets)
			assertNotShown(t, "the journal", string(journal), secrets)
			if mode == "json" {
				assertNoSecretInJSON(t, r.stdout, secrets)
			}
		})
	}
	// The server's error quotes the value it was sent, escaped: a
	// backslash or a quote in it is escaped once in the message and twice
	// on a -json line.
	for _, echoed := range []string{`Tr0ub4dor\3`, `pa"ssword-long`, pass} {
		t.Run("server echo "+echoed, func(t *testing.T) {
			t.Parallel()
			secrets := maps.Clone(secrets)
			secrets["echoed"] = echoed
			state := filepath.Join(t.TempDir(), "echo.journal")
			r := runCLI(t, env, "", "run", "-json", "-state", state, "-var", "pass="+echoed, "testdata/secrets/echo.hcl")
			if r.code != exitFailed || !strings.Contains(r.stdout, "is not a group id") {
				t.Fatalf("exit %d, want 1 and the server's error; stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			journal, err := os.ReadFile(state)
			if err != nil {
				t.Fatal(err)
			}
			assertNotShown(t, "stdout", r.stdout, secrets)
			assertNotShown(t, "stderr", r.stderr, secrets)
			assertNotShown(t, "the journal", string(journal), secrets)
			assertNoSecretInJSON(t, r.stdout, secrets)
		})
	}
}

// Arguments after a script's name go to the script, even one that looks
// like a flag (an ok.ru token starts with "-s-"); a wrong flag before it
// is refused without showing what was typed.
func TestScriptArgsAreNotFlags(t *testing.T) {
	t.Parallel()
	const token = "-s-9f3b2ZkQ7xY"
	r := runCLI(t, nil, "", "run", "testdata/cli/script_args.lua", token, "-json")
	if r.code != exitOK || !strings.Contains(r.stdout, `"`+token+`"`) || !strings.Contains(r.stdout, `"-json"`) {
		t.Fatalf("exit %d; stdout:\n%s\nstderr:\n%s\nwant the token and -json as the script's arguments", r.code, r.stdout, r.stderr)
	}
	for _, args := range [][]string{
		{"run", token, "testdata/cli/script_args.lua"},
		{token, "testdata/cli/script_args.lua"},
		{"run", "-timeout", token, "testdata/cli/script_args.lua"},
		{"run", "testdata/cli/valid.hcl", token},
		{"plan", "--" + token[1:], "testdata/cli/valid.hcl"},
	} {
		r := runCLI(t, nil, "", args...)
		if r.code != exitInvalid || strings.Contains(r.stderr+r.stdout, token[3:]) {
			t.Errorf("okru-run %s: exit %d, want 2 and no trace of the value; stderr:\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
	}
}

// An interrupted run's resume command shows neither the value of a
// sensitive variable nor an earlier -var of the same name, which the run
// did not use (issue 11: "-var pin=Old" was shown).
func TestResumeHintHidesSensitive(t *testing.T) {
	t.Parallel()
	sb := startSandboxProc(t)
	sb.setLatency(t, 2*time.Second)
	dir := t.TempDir()
	wf := filepath.Join(dir, "pin.hcl")
	src := `variable "pin" {
  type      = string
  sensitive = true
}
session "main" {
  app_key        = env("OKRU_APP_KEY")
  app_secret_key = env("OKRU_APP_SECRET_KEY")
  access_token   = env("OKRU_ACCESS_TOKEN")
  api_url        = env("OKRU_API_URL")
}
call "read" {
  method   = "users.getInfo"
  for_each = toset(["1", "2", "3"])
  params   = { uids = each.value, fields = "first_name", call_id = var.pin }
}
`
	if err := os.WriteFile(wf, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	p := startRun(t, sb.env, func(p *runProc, e map[string]any) {
		if e["type"] == "started" {
			once.Do(func() { _ = p.cmd.Process.Signal(syscall.SIGINT) })
		}
	}, "-parallelism", "1", "-grace", "30s", "-var", "pin=Old42", "-var", "pin=New42", wf)
	if code := p.wait(t); code != exitInterrupted {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitInterrupted, p.stderr.String())
	}
	stderr := p.stderr.String()
	want := "to continue: okru-run run -resume -json -parallelism 1 -grace 30s -var pin=... " + wf
	if !strings.Contains(stderr, want) || !strings.Contains(stderr, "give them again") {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	journal, _ := os.ReadFile(filepath.Join(dir, ".okru-run", "pin.hcl.journal"))
	p.mu.Lock()
	events, _ := json.Marshal(p.events)
	p.mu.Unlock()
	for _, s := range []string{"Old42", "New42"} {
		if strings.Contains(stderr+string(events)+string(journal), s) {
			t.Errorf("%s is shown:\n%s\n%s\n%s", s, stderr, events, journal)
		}
	}
}

// The resume command keeps the last -var of a name and hides a sensitive
// one by its declaration, whatever its value; a script's arguments are
// copied as they are, a secret among them redacted.
func TestResumeCommandSensitive(t *testing.T) {
	t.Parallel()
	sensitive := map[string]bool{"pin": true, "name": false}
	tests := []struct {
		args   []string
		want   string
		hidden bool
	}{
		{[]string{"-var", "pin=Old", "-var", "pin=New", "wf.hcl"}, "okru-run run -resume -var pin=... wf.hcl", true},
		{[]string{"-var=pin=1", "--var", "name=a", "-var", "name=b", "wf.hcl", "-var=pin=2"}, "okru-run run -resume -var name=b wf.hcl -var=pin=...", true},
		{[]string{"-var", "name=a", "wf.hcl"}, "okru-run run -resume -var name=a wf.hcl", false},
		{[]string{"-state", "s.j", "testdata/cli/script_args.lua", "-var", "pin=1", "-var", "pin=2", "-s-tokenvalue9"},
			"okru-run run -resume -state s.j testdata/cli/script_args.lua -var pin=1 -var pin=2 '[REDACTED]'", true},
	}
	for _, tt := range tests {
		got, hidden := resumeCommand(tt.args, []string{"-s-tokenvalue9"}, sensitive)
		if got != tt.want || hidden != tt.hidden {
			t.Errorf("resumeCommand(%q) = %q, %v; want %q, %v", tt.args, got, hidden, tt.want, tt.hidden)
		}
	}
}

// The flag package's error lines are rewritten without what was typed.
func TestSafeFlagError(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ line, want string }{
		{"flag provided but not defined: -s-TOKEN", "an argument is not a flag"},
		{`invalid value "-s-TOKEN: for flag -x" for flag -timeout: time: invalid duration "-s-TOKEN"`, "the value given to -timeout is not valid"},
		{`invalid boolean value "s-TOKEN" for -json: parse error`, "the value given to -json is not valid"},
		{"bad flag syntax: ---s-TOKEN", "not a well-formed flag"},
	} {
		got, ok := safeFlagError(tt.line)
		if !ok || !strings.Contains(got, tt.want) || strings.Contains(got, "TOKEN") {
			t.Errorf("safeFlagError(%q) = %q, %v; want %q without the value", tt.line, got, ok, tt.want)
		}
	}
	if _, ok := safeFlagError("Usage: okru-run run"); ok {
		t.Error("a usage line was rewritten")
	}
}
