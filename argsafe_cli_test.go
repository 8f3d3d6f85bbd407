package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestArgumentErrorsEchoNothing: a value typed in the wrong place is
// never printed back, as ok.ru tokens start with "-s-", which the flag
// parser takes for a flag, and a token pasted after the wrong flag would
// end up in a terminal or a CI log. Every flag of every command is given
// a token-like value, before and after the workflow and with =, and the
// token is given as an argument: each run fails (or not) without the
// token in stdout or stderr, while still naming what was wrong.
func TestArgumentErrorsEchoNothing(t *testing.T) {
	t.Parallel()
	const token = "-s-abc123secret"
	dir := t.TempDir()
	wf, script := filepath.Join(dir, "wf.hcl"), filepath.Join(dir, "g.lua")
	for from, to := range map[string]string{"examples/whoami.hcl": wf, "examples/greeting.lua": script} {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// These name a file to create (a report, a journal, the credentials),
	// which is shown back once written: the value is a path by design.
	creates := map[string]bool{"run -state": true, "run -report-json": true, "run -report-junit": true, "run -report-html": true,
		"test -report-json": true, "test -report-junit": true, "test -report-html": true, "login -out": true}
	// login gets as far as it can: everything set, nobody listening.
	loginEnv := []string{"OKRU_APP_ID=512000000001", "OKRU_APP_KEY=CBAKEY", "OKRU_LOGIN=demo",
		"OKRU_PASSWORD=Password-0123456789", "OKRU_CONNECT_URL=http://127.0.0.1:1", "OKRU_API_URL=http://127.0.0.1:1"}
	cases := [][]string{
		{token}, {"help", token}, {"run", wf, token}, {"run", wf, "-var", "x=" + token},
		// The cases of the report: each named flag and help.
		{"run", "-var", token, wf}, {"run", "-color", token, wf}, {"run", "-shard", token, wf},
		{"run", "-session", token, script}, {"run", "-config", token, script}, {"run", "-credentials", token, wf},
		{"sandbox", "-addr", token},
	}
	for _, cmd := range commandNames() {
		cases = append(cases, []string{cmd, token}, []string{cmd, wf, token})
		for _, f := range commandFlags(t.Context(), cmd) {
			if creates[cmd+" -"+f.Name] {
				continue
			}
			flagArg := "-" + f.Name
			cases = append(cases, []string{cmd, flagArg, token, wf}, []string{cmd, wf, flagArg, token}, []string{cmd, flagArg + "=" + token})
			if cmd == "run" {
				cases = append(cases, []string{cmd, flagArg, token, script})
			}
		}
	}
	for _, args := range cases {
		name := strings.ReplaceAll(strings.Join(args, " "), dir+string(filepath.Separator), "")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var env []string
			if args[0] == "login" {
				env = loginEnv
			}
			// Nothing here should wait; a sandbox that started would.
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			r := runCLIContext(ctx, t, env, "", args...)
			if strings.Contains(r.stdout+r.stderr, "abc123secret") {
				t.Errorf("exit %d; the value is printed back:\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
		})
	}
}

// TestArgumentErrorsSayWhatIsWrong: the messages that no longer show the
// value still name the flag and the form it wants.
func TestArgumentErrorsSayWhatIsWrong(t *testing.T) {
	t.Parallel()
	const token = "-s-abc123secret"
	dir := t.TempDir()
	wf := filepath.Join(dir, "wf.hcl")
	if err := os.WriteFile(wf, []byte(`call "me" { method = "users.getCurrentUser" }`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "s.lua")
	if err := os.WriteFile(script, []byte("return 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"output", "-state", token, wf}, "-state: no state at the path given"},
		{[]string{"run", "-var", token, wf}, "-var: want NAME=VALUE"},
		{[]string{"plan", "-var", "novalue", wf}, "-var: want NAME=VALUE"},
		{[]string{"run", "-color", token, wf}, "okru-run run: -color: want auto, always or never"},
		{[]string{"validate", "-color", token, wf}, "okru-run validate: -color: want auto, always or never"},
		{[]string{"run", "-shard", token, wf}, "-shard: want I/N"},
		{[]string{"run", "-session", token, script}, "-session: want the name of a session block"},
		{[]string{"run", "-config", token, script}, "-config: no file or folder at the path given"},
		{[]string{"run", "-credentials", token, wf}, "-credentials: no file at the path given"},
		{[]string{"plan", "-var-file", token, wf}, "-var-file: no file at the path given"},
		{[]string{"help", token}, "an argument is not a command"},
		{[]string{"help", "frobnicate"}, "frobnicate is not a command"},
		{[]string{"sandbox", "-addr", token}, "-addr: want HOST:PORT"},
		{[]string{"sandbox", "-seed", token}, "-seed: want a whole number"},
		{[]string{"sandbox", "-latency", token}, "-latency: want a duration"},
		{[]string{"run", wf, "abc123secret", wf}, "one workflow file or folder expected, got 3 arguments"},
		{[]string{"test", "-filter", token, dir}, "matches the -filter patterns given (1, not shown)"},
		{[]string{"login", "-connect-url", token}, "-connect-url (or OKRU_CONNECT_URL): want an absolute http:// or https:// URL"},
		{[]string{"login", "-redirect-uri", token}, "-redirect-uri: want an absolute http:// or https:// URL"},
		{[]string{"login", "-app-id", token}, "-app-id (or OKRU_APP_ID): want the app's number"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[:2], " "), func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, []string{"OKRU_APP_ID=1", "OKRU_APP_KEY=K", "OKRU_LOGIN=demo", "OKRU_PASSWORD=Password-0123456789"}, "", tt.args...)
			code := exitInvalid
			if tt.args[0] == "output" {
				code = exitFailed // as for no state at the default path
			}
			if r.code != code || !strings.Contains(r.stderr, tt.want) || strings.Contains(r.stdout+r.stderr, "abc123secret") {
				t.Errorf("exit %d, stderr %q; want exit %d and %q, without the value", r.code, r.stderr, code, tt.want)
			}
		})
	}
}
