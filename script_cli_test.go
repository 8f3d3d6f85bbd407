package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/okru-run/okru-run/okru/okrutest"
)

// TestScriptCLIGolden runs the Lua examples and every kind of script
// failure through the built binary, against golden stdout, stderr and exit
// code. Script runs use the in-process sandbox.
func TestScriptCLIGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  []string
	}{
		// The examples, as their headers say to run them.
		{name: "example_friends_of_friends", args: []string{"--sandbox", "examples/friends-of-friends.lua", "8"}},
		{name: "example_online_friends", args: []string{"run", "--sandbox", "-parallelism", "1", "examples/online-friends.hcl", "-var", "how_many=3"}},
		{name: "example_post_and_verify", args: []string{"run", "--sandbox", "examples/post-and-verify.lua", "Hello from a script"}},
		{name: "plan_online_friends", args: []string{"plan", "examples/online-friends.hcl"}},
		{name: "validate_online_friends", args: []string{"validate", "examples/online-friends.hcl"}},
		// Lua libraries: require from a script, lua:: functions in a workflow.
		{name: "example_greeting", args: []string{"--sandbox", "examples/greeting.lua"}},
		{name: "example_post_with_tags", args: []string{"run", "--sandbox", "-parallelism", "1", "examples/post-with-tags.hcl"}},
		{name: "plan_post_with_tags", args: []string{"plan", "examples/post-with-tags.hcl", "-var", "message=Hello, plugins!"}},
		{name: "lua_library_error", args: []string{"--sandbox", "testdata/cli/luafunc/uses_library.lua"}},
		{name: "lua_library_raises", args: []string{"-sandbox", "testdata/cli/luaerror/main.lua"}},
		{name: "lua_library_typo", args: []string{"-sandbox", "testdata/cli/luaerror/typo.lua"}},
		{name: "lua_function_raises", args: []string{"run", "--sandbox", "testdata/cli/luafunc/raise.hcl"}},
		{name: "lua_function_returns_function", args: []string{"run", "--sandbox", "testdata/cli/luafunc/give_function.hcl"}},
		{name: "lua_function_returns_cycle", args: []string{"plan", "testdata/cli/luafunc/cycle.hcl"}},
		{name: "lua_path", args: []string{"plan", "-lua-path", "testdata/cli/luapath/shared", "testdata/cli/luapath/workflow.hcl"}},
		{name: "lua_path_missing", args: []string{"validate", "testdata/cli/luapath/workflow.hcl"}},
		{name: "lua_library_syntax_error", args: []string{"validate", "testdata/cli/luasyntax/workflow.hcl"}},
		{name: "lua_library_calls_api", args: []string{"validate", "testdata/cli/luabad/workflow.hcl"}},
		// Arguments: flags anywhere before --, everything after it to the script.
		{name: "script_args", args: []string{"run", "-sandbox", "testdata/cli/script_args.lua", "a", "--", "-n", "-json"}},
		// Failures.
		{name: "script_syntax_error", args: []string{"--sandbox", "testdata/cli/script_syntax.lua"}},
		{name: "script_fails", args: []string{"--sandbox", "testdata/cli/script_fails.lua"}},
		{name: "script_typo", args: []string{"-sandbox", "testdata/cli/script_typo.lua"}},
		{name: "script_timeout", args: []string{"run", "--sandbox", "-timeout", "100ms", "testdata/cli/script_loop.lua"}},
		{name: "script_no_session", args: []string{"testdata/cli/script_echo.lua"}},
		{name: "script_bad_flag", args: []string{"-n", "5", "testdata/cli/script_loop.lua"}},
		{name: "script_bad_timeout", args: []string{"-timeout", "-1s", "testdata/cli/script_loop.lua"}},
		{name: "script_missing", args: []string{"--sandbox", "testdata/cli/nope.lua"}},
		{name: "script_missing_credentials", args: []string{"testdata/cli/script_echo.lua"}, env: []string{"OKRU_APP_KEY=key"}},
		{name: "script_several_sessions", args: []string{"--sandbox", "--config", "testdata/cli/script_config.hcl", "testdata/cli/script_echo.lua"}},
		{name: "script_unknown_session", args: []string{"--sandbox", "-session", "nope", "testdata/cli/script_echo.lua"}},
		{name: "validate_script_steps", args: []string{"validate", "testdata/cli/script_steps.hcl"}},
		{name: "validate_script_file", args: []string{"validate", "testdata/cli/script_syntax.lua"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkGolden(t, tt.name, runCLI(t, tt.env, "", tt.args...))
		})
	}
}

// TestScriptJSON checks the NDJSON of a script run: the calls of the
// script are events of its step, and the last line holds the result.
func TestScriptJSON(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, "", "run", "-json", "--sandbox", "examples/post-and-verify.lua", "from -json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	lines := jsonLines(t, r.stdout)
	var calls []string
	for _, l := range lines[:len(lines)-1] {
		if l["type"] == "version" || l["type"] == "summary" {
			continue
		}
		if l["step"] != "script.post-and-verify" {
			t.Errorf("line not attributed to the script's step: %v", l)
		}
		if l["type"] == "finished" && l["from_script"] == true {
			calls = append(calls, l["method"].(string))
		}
	}
	if got := strings.Join(calls, " "); got != "group.getUserGroupsV2 mediatopic.post mediatopic.getByIds" {
		t.Errorf("calls finished = %s", got)
	}
	last := lines[len(lines)-1]
	if last["type"] != "outputs" {
		t.Fatalf("last line = %v, want the outputs", last)
	}
	result := last["outputs"].(map[string]any)["result"].(map[string]any)
	if result["verified"] != true || result["text"] != "from -json" || result["topic_id"] != "700000000000001" {
		t.Errorf("result = %v", result)
	}

	// A failed script ends with its diagnostic, the summary, then the
	// outputs (none).
	r = runCLI(t, nil, "", "run", "-json", "--sandbox", "testdata/cli/script_fails.lua")
	if r.code != exitFailed {
		t.Fatalf("exit %d, want %d: %s", r.code, exitFailed, r.stderr)
	}
	lines = jsonLines(t, r.stdout)
	n := len(lines)
	if n < 3 || lines[n-3]["type"] != "diagnostic" || lines[n-2]["type"] != "summary" || lines[n-1]["type"] != "outputs" || len(lines[n-1]["outputs"].(map[string]any)) != 0 {
		t.Errorf("last lines = %v, want a diagnostic, the summary, then empty outputs", lines[max(n-3, 0):])
	}
}

// TestScriptInterrupted stops scripts with SIGINT, as Ctrl-C does: one in
// an endless loop, one waiting for a call. Both end with exit code 130.
func TestScriptInterrupted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, script string
		slow         bool
	}{
		{"endless loop", "testdata/cli/script_loop.lua", false},
		{"call in flight", "testdata/cli/script_call_waits.lua", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sandbox := okrutest.NewServer(okrutest.Config{})
			t.Cleanup(sandbox.Close)
			if tt.slow {
				// Every call waits a minute: only the interruption can end it.
				sandbox.SetLatency(time.Minute)
			}
			// A front that says when a request has arrived.
			arrived := make(chan struct{}, 1)
			front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case arrived <- struct{}{}:
				default:
				}
				sandbox.Handler().ServeHTTP(w, r)
			}))
			t.Cleanup(front.Close)
			app, demo := sandbox.App(), sandbox.DemoUser()
			env := []string{"OKRU_APP_KEY=" + app.Key, "OKRU_APP_SECRET_KEY=" + app.SecretKey,
				"OKRU_ACCESS_TOKEN=" + demo.AccessToken, "OKRU_API_URL=" + front.URL}
			cmd := okruRun(t, env, "run", "-json", "-grace", "1s", tt.script)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// The log line comes right before the loop or the call.
			sc := bufio.NewScanner(stdout)
			var rest strings.Builder
			for sc.Scan() {
				rest.WriteString(sc.Text() + "\n")
				if strings.Contains(sc.Text(), `"type":"log"`) {
					break
				}
			}
			if tt.slow {
				<-arrived // the call is in flight
			}
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			for sc.Scan() {
				rest.WriteString(sc.Text() + "\n")
			}
			err = cmd.Wait()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != exitInterrupted {
				t.Fatalf("wait: %v, want exit %d; stderr:\n%s", err, exitInterrupted, stderr.String())
			}
			if !strings.Contains(stderr.String(), "okru-run: interrupted") {
				t.Errorf("stderr does not say it was interrupted:\n%s", stderr.String())
			}
			if !strings.Contains(rest.String(), `"reason":"interrupted"`) || strings.Contains(rest.String(), `"type":"failed"`) {
				t.Errorf("the script was not reported as interrupted:\n%s", rest.String())
			}
		})
	}
}

// TestScriptNoSecretsInOutput runs scripts with real credentials (a
// sandbox's, from the environment or a --config file) and a sensitive
// value given to a script that logs it, and checks that no secret appears
// in any output.
func TestScriptNoSecretsInOutput(t *testing.T) {
	t.Parallel()
	srv := okrutest.NewServer(okrutest.Config{})
	t.Cleanup(srv.Close)
	demo := srv.DemoUser()
	env, secrets := credentialsEnv(srv, "pw-SECRET-1a2b3c4d5e6f")
	commands := []struct {
		args     []string
		sessions string // what okru.sessions() says, in the log
	}{
		{[]string{"testdata/cli/script_echo.lua"}, "sessions: default"},
		{[]string{"run", "-json", "testdata/cli/script_echo.lua"}, "sessions: default"},
		{[]string{"run", "--config", "testdata/cli/script_config.hcl", "-session", "main", "testdata/cli/script_echo.lua"}, "sessions: client,main"},
		{[]string{"run", "-parallelism", "1", "testdata/cli/script_secrets.hcl"}, ""},
		{[]string{"run", "-json", "testdata/cli/script_secrets.hcl"}, ""},
	}
	for _, c := range commands {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			t.Parallel()
			args := c.args
			state := filepath.Join(t.TempDir(), "script.journal")
			if strings.HasSuffix(args[len(args)-1], ".hcl") {
				// Each workflow run its own state: the parallel runs would
				// otherwise share the one beside the workflow, and its lock.
				args = append([]string{args[0], "-state", state}, args[1:]...)
			}
			r := runCLI(t, env, "", args...)
			t.Logf("stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			out := r.stdout + r.stderr
			if b, err := os.ReadFile(state); err == nil {
				out += string(b) // the state must hold no secret either
			}
			if c.sessions == "" {
				// The workflow's script logs the password and fails a call
				// with it: both must be hidden.
				if r.code != 0 || !strings.Contains(out, "the password is [REDACTED]") {
					t.Errorf("exit %d; want the logged password redacted", r.code)
				}
			} else if r.code != 0 || !strings.Contains(out, c.sessions) || !strings.Contains(out, demo.UID) {
				t.Errorf("exit %d; want %q and the demo user's uid", r.code, c.sessions)
			}
			for what, s := range secrets {
				if strings.Contains(out, s) {
					t.Errorf("the output shows the %s", what)
				}
			}
		})
	}
}

// TestScriptResultIsOneJSONDocument checks that stdout holds exactly the
// script's return value, for jq.
func TestScriptResultIsOneJSONDocument(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, "", "--sandbox", "testdata/cli/script_args.lua", "x")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	if dec.More() {
		t.Errorf("stdout holds more than one JSON value:\n%s", r.stdout)
	}
	if v["big_id"] != "9007199254740993" || v["args"].([]any)[0] != "x" {
		t.Errorf("result = %v", v)
	}
}
