package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/okru-run/okru-run/okru/okrutest"
)

// TestCLIGolden runs every command and every diagnostic against golden
// stdout, stderr and exit code. Runs use the in-process sandbox and one
// call at a time, so their event order is fixed.
func TestCLIGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  []string
	}{
		// run
		{name: "run_whoami", args: []string{"run", "--sandbox", "-parallelism", "1", "examples/whoami.hcl"}},
		{name: "example_group_members", args: []string{"run", "--sandbox", "-parallelism", "1", "examples/group-members.hcl"}},
		{name: "example_mutual_friends", args: []string{"run", "--sandbox", "-parallelism", "1", "examples/mutual-friends.hcl", "-var", "how_many=4"}},
		{name: "example_group_report", args: []string{"run", "--sandbox", "-parallelism", "1", "examples/group-report.hcl"}},
		{name: "example_topic_with_photos", args: []string{"run", "--sandbox", "-parallelism", "1", "examples/topic-with-photos"}},
		{name: "example_publish_video", args: []string{"run", "--sandbox", "-parallelism", "1", "examples/publish-video"}},
		{name: "example_post_with_photos", args: []string{"run", "--sandbox", "-parallelism", "1", "examples/post-with-photos"}},
		{name: "run_upload_bad_files", args: []string{"run", "--sandbox", "-parallelism", "1", "testdata/cli/upload/bad_files.hcl"}},
		{name: "plan_topic_with_photos", args: []string{"plan", "examples/topic-with-photos"}},
		{name: "plan_post_with_photos", args: []string{"plan", "examples/post-with-photos"}},
		{name: "run_implicit", args: []string{"examples/post-and-read.hcl", "-sandbox", "-parallelism=1", "-var", "message=implicit run"}},
		{name: "run_call_fails", args: []string{"run", "-sandbox", "-parallelism", "1", "testdata/cli/call_fails.hcl"}},
		{name: "run_continue_on_error", args: []string{"run", "-sandbox", "-parallelism", "1", "-continue-on-error", "testdata/cli/call_fails.hcl"}},
		{name: "run_many_failures", args: []string{"run", "-sandbox", "-parallelism", "1", "-continue-on-error", "testdata/cli/many_failures.hcl"}},
		{name: "run_many_failures_json", args: []string{"run", "-sandbox", "-parallelism", "1", "-continue-on-error", "-json", "-progress", "0", "testdata/cli/many_failures.hcl"}},
		{name: "run_many_failures_stop", args: []string{"run", "-sandbox", "-parallelism", "1", "testdata/cli/many_failures.hcl"}},
		{name: "run_json_load_error", args: []string{"run", "-json", "-sandbox", "testdata/cli/unknown_reference.hcl"}},
		{name: "run_json_variable_error", args: []string{"run", "-json", "-sandbox", "-var", "name=x", "-var", "limit=500", "testdata/cli/variables.hcl"}},
		{name: "validate_json_syntax_error", args: []string{"validate", "-json", "testdata/cli/syntax_error.hcl"}},
		{name: "plan_json_whoami", args: []string{"plan", "-json", "examples/whoami.hcl"}},
		{name: "run_when_and_paging", args: []string{"run", "-sandbox", "-parallelism", "1", "testdata/cli/when_and_paging.hcl"}},
		{name: "run_variables", args: []string{"run", "-sandbox", "-var-file", "testdata/cli/values.okvars", "-var", "ids=[500000462248]", "testdata/cli/variables.hcl"},
			env: []string{"OKRU_VAR_limit=20", "OKRU_VAR_name=from env"}},
		{name: "run_variable_validation", args: []string{"run", "-sandbox", "-var", "name=x", "-var", "limit=500", "testdata/cli/variables.hcl"}},
		{name: "run_variable_type", args: []string{"run", "-sandbox", "-var", "name=x", "-var", "ids=[a,b", "testdata/cli/variables.hcl"}},
		{name: "run_missing_variable", args: []string{"run", "-sandbox", "testdata/cli/variables.hcl"}},
		{name: "run_undeclared_variable", args: []string{"run", "-sandbox", "-var", "nmae=x", "testdata/cli/variables.hcl"}},
		{name: "run_no_credentials", args: []string{"run", "testdata/cli/valid.hcl"}},
		{name: "run_sensitive_output", args: []string{"run", "-sandbox", "testdata/cli/sensitive_output.hcl"}},
		{name: "run_bad_flag", args: []string{"run", "-parallelism", "0", "examples/whoami.hcl"}},
		{name: "run_missing_file", args: []string{"run", "testdata/cli/nope.hcl"}},
		// assertions
		{name: "run_assertions", args: []string{"run", "-sandbox", "-parallelism", "1", "testdata/cli/assertions.hcl"}},
		{name: "run_assertions_strict", args: []string{"run", "-sandbox", "-parallelism", "1", "-strict-checks", "testdata/cli/assertions.hcl"}},
		{name: "run_postcondition_fails", args: []string{"run", "-sandbox", "-parallelism", "1", "-var", "min_friends=100000", "testdata/cli/assertions.hcl"}},
		{name: "run_upload_assertions", args: []string{"run", "-sandbox", "testdata/cli/upload/assertions.hcl"}},
		{name: "run_upload_postcondition_fails", args: []string{"run", "-sandbox", "-var", "file=other.png", "testdata/cli/upload/assertions.hcl"}},
		{name: "run_upload_precondition_fails", args: []string{"run", "-sandbox", "-var", "file=", "testdata/cli/upload/assertions.hcl"}},
		{name: "run_precondition_fails", args: []string{"run", "-sandbox", "-parallelism", "1", "-var", "min_friends=-1", "testdata/cli/assertions.hcl"}},
		{name: "run_precondition_secret", args: []string{"run", "-sandbox", "testdata/cli/assertion_secret.hcl"}},
		{name: "run_assertion_types", args: []string{"run", "-sandbox", "testdata/cli/assertion_types.hcl"}},
		{name: "plan_assertions", args: []string{"plan", "-sandbox", "testdata/cli/assertions.hcl"}},
		{name: "plan_json_assertions", args: []string{"plan", "-json", "-sandbox", "testdata/cli/assertions.hcl"}},
		{name: "validate_assertion_errors", args: []string{"validate", "testdata/cli/assertion_errors.hcl"}},
		// plan
		{name: "plan_whoami", args: []string{"plan", "examples/whoami.hcl"}},
		{name: "plan_group_members", args: []string{"plan", "examples/group-members.hcl", "-var", "group_id=50000000720903"}},
		{name: "plan_variables", args: []string{"plan", "-var", "name=x", "-var", "ids=[1,2]", "testdata/cli/variables.hcl"}},
		{name: "plan_when_and_paging", args: []string{"plan", "--sandbox", "testdata/cli/when_and_paging.hcl", "-var", "post=true"}},
		// validate: one case per diagnostic
		{name: "validate_valid", args: []string{"validate", "testdata/cli/valid.hcl"}},
		{name: "validate_syntax_error", args: []string{"validate", "testdata/cli/syntax_error.hcl"}},
		{name: "validate_unknown_block", args: []string{"validate", "testdata/cli/unknown_block.hcl"}},
		{name: "validate_unknown_attribute", args: []string{"validate", "testdata/cli/unknown_attribute.hcl"}},
		{name: "validate_unknown_reference", args: []string{"validate", "testdata/cli/unknown_reference.hcl"}},
		{name: "validate_cycle", args: []string{"validate", "testdata/cli/cycle.hcl"}},
		{name: "validate_unknown_method", args: []string{"validate", "testdata/cli/unknown_method.hcl"}},
		{name: "validate_unknown_param", args: []string{"validate", "testdata/cli/unknown_param.hcl"}},
		{name: "validate_missing_session", args: []string{"validate", "testdata/cli/missing_session.hcl"}},
		{name: "validate_ambiguous_session", args: []string{"validate", "testdata/cli/ambiguous_session.hcl"}},
		{name: "validate_type_errors", args: []string{"validate", "testdata/cli/type_errors.hcl"}},
		{name: "validate_misc_errors", args: []string{"validate", "testdata/cli/misc_errors.hcl"}},
		{name: "validate_catalog_errors", args: []string{"validate", "testdata/cli/catalog_errors.hcl"}},
		{name: "validate_examples", args: []string{"validate", "examples/group-members.hcl"}},
		{name: "validate_module_errors", args: []string{"validate", "testdata/cli/modules/bad_inputs.hcl"}},
		{name: "run_module_input_type", args: []string{"run", "-sandbox", "testdata/cli/modules/late_type.hcl"}},
		{name: "plan_module_checks", args: []string{"plan", "-sandbox", "testdata/tests/modules"}},
		{name: "plan_json_module_checks", args: []string{"plan", "-json", "-sandbox", "testdata/tests/modules"}},
		{name: "validate_post_with_photos", args: []string{"validate", "examples/post-with-photos"}},
		// fmt, graph, methods
		{name: "fmt_check", args: []string{"fmt", "-check", "testdata/cli/unformatted.hcl", "testdata/cli/valid.hcl"}},
		{name: "fmt_diff", args: []string{"fmt", "-check", "-diff", "testdata/cli/unformatted.hcl"}},
		{name: "fmt_syntax_error", args: []string{"fmt", "-check", "testdata/cli/syntax_error.hcl"}},
		{name: "fmt_examples", args: []string{"fmt", "-check", "examples", "examples/tests", "examples/topic-with-photos", "examples/publish-video",
			"examples/post-with-photos", "examples/post-with-photos/modules/post-with-photos"}},
		{name: "graph", args: []string{"graph", "examples/group-members.hcl"}},
		{name: "graph_post_with_photos", args: []string{"graph", "examples/post-with-photos"}},
		{name: "graph_cycle", args: []string{"graph", "testdata/cli/cycle.hcl"}},
		{name: "methods_prefix", args: []string{"methods", "group.get"}},
		{name: "methods_none", args: []string{"methods", "users.getInfoo"}},
		{name: "methods_json_rules", args: []string{"methods", "-json", "mediatopic.post"}},
		{name: "methods_external_and_fields", args: []string{"methods", "users.getC"}},
		{name: "unknown_command_file", args: []string{"nosuch.hcl"}},
		{name: "unknown_command", args: []string{"frobnicate", "-sandbox"}},
		{name: "unknown_command_apply", args: []string{"apply", "-sandbox", "examples/whoami.hcl"}},
		{name: "run_unknown_flag", args: []string{"run", "-sandbx", "examples/whoami.hcl"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkGolden(t, tt.name, runCLI(t, tt.env, "", tt.args...))
		})
	}
}

// TestFmtRewritesInPlace formats a copy of an unformatted file and checks
// that a second pass changes nothing.
func TestFmtRewritesInPlace(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("testdata/cli/unformatted.hcl")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "wf.hcl")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, nil, "", "fmt", path); r.code != 0 || strings.TrimSpace(r.stdout) != path {
		t.Fatalf("fmt: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, nil, "", "fmt", "-check", path); r.code != 0 || r.stdout != "" {
		t.Errorf("second fmt -check: exit %d, stdout %q", r.code, r.stdout)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("mode after fmt = %v (%v), want 0600", st.Mode().Perm(), err)
	}
	r := runCLI(t, nil, string(src), "fmt", "-")
	formatted, _ := os.ReadFile(path)
	if r.code != 0 || r.stdout != string(formatted) {
		t.Errorf("fmt - = exit %d, %q; want the formatted file", r.code, r.stdout)
	}
}

func TestRunJSON(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, "", "run", "--sandbox", "-json", "examples/group-members.hcl")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	lines := jsonLines(t, r.stdout)
	counts := map[string]int{}
	for _, l := range lines {
		counts[l["type"].(string)]++
	}
	// my_groups, group, members (paged) and two chunks of profiles.
	if counts["started"] != 5 || counts["finished"] != 5 || counts["expanded"] != 1 {
		t.Errorf("event counts = %v, want 5 started, 5 finished, 1 expanded", counts)
	}
	last := lines[len(lines)-1]
	if last["type"] != "outputs" {
		t.Fatalf("last line = %v, want the outputs", last)
	}
	outs := last["outputs"].(map[string]any)
	if outs["members"] != float64(200) || outs["profile_calls"] != float64(2) || outs["group"] != "Кино — Нижний Новгород" {
		t.Errorf("outputs = %v", outs)
	}
	for _, l := range lines {
		if l["type"] == "finished" && l["step"] == "call.members" && l["pages"] != float64(4) {
			t.Errorf("call.members finished in %v pages, want 4", l["pages"])
		}
		if l["type"] == "finished" && l["step"] == "call.profiles" {
			if _, ok := l["key"].(float64); !ok {
				t.Errorf("instance key = %v, want its index", l["key"])
			}
		}
	}
}

func TestRunJSONFailure(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, "", "run", "--sandbox", "-json", "-parallelism", "1", "testdata/cli/call_fails.hcl")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	lines := jsonLines(t, r.stdout)
	var failed, diag bool
	for _, l := range lines {
		switch l["type"] {
		case "failed":
			failed = l["step"] == "call.members" && strings.Contains(l["error"].(string), "uid")
		case "diagnostic":
			diag = l["severity"] == "error" && l["range"] != nil
		}
	}
	if !failed || !diag {
		t.Errorf("want a failed event naming the parameter and an error diagnostic with a range:\n%s", r.stdout)
	}
	if lines[len(lines)-1]["type"] != "outputs" {
		t.Errorf("the last line is not the outputs:\n%s", r.stdout)
	}
}

func TestPlanJSON(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, "", "plan", "-json", "examples/whoami.hcl")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	lines := jsonLines(t, r.stdout)
	var steps []string
	for _, l := range lines {
		if l["type"] == "call" {
			steps = append(steps, l["step"].(string))
			if l["step"] == "call.profiles" && l["for_each"] != "(known after call.friends)" {
				t.Errorf("for_each = %v, want (known after call.friends)", l["for_each"])
			}
		}
	}
	if strings.Join(steps, " ") != "call.me call.friends call.profiles" {
		t.Errorf("planned steps = %v", steps)
	}
	if lines[len(lines)-1]["type"] != "outputs" {
		t.Errorf("the last line is not the outputs: %v", lines[len(lines)-1])
	}
	summary := lines[len(lines)-2]
	if summary["type"] != "plan_summary" || summary["calls"] != float64(2) || summary["pending_steps"] != float64(1) {
		t.Errorf("summary = %v", summary)
	}
}

func TestHelpListsCommands(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, "", "help")
	for _, c := range []string{"run", "plan", "validate", "fmt", "graph", "methods", "version"} {
		if !strings.Contains(r.stdout, "  "+c+" ") {
			t.Errorf("help does not list %s:\n%s", c, r.stdout)
		}
	}
	if r := runCLI(t, nil, "", "run", "-h"); r.code != 0 || !strings.Contains(r.stdout, "-continue-on-error") {
		t.Errorf("run -h: exit %d, %s", r.code, r.stdout)
	}
}

// TestNoSecretsInOutput runs every command on a workflow holding real
// credentials (a sandbox's, given through the environment as a user would)
// and a sensitive variable, with failing calls that may echo values, and
// checks that no secret appears in any output, diagnostic or JSON line.
func TestNoSecretsInOutput(t *testing.T) {
	t.Parallel()
	srv := okrutest.NewServer(okrutest.Config{})
	t.Cleanup(srv.Close)
	demo := srv.DemoUser()
	env, secrets := credentialsEnv(srv, "pw-SECRET-9f8e7d6c5b4a")
	const wf = "testdata/cli/secrets.hcl"
	commands := [][]string{
		{"run", "-continue-on-error", "-parallelism", "1", wf},
		{"run", "-continue-on-error", "-json", wf},
		{"plan", wf},
		{"plan", "-json", wf},
		{"validate", wf},
		{"validate", "-json", wf},
		{"graph", wf},
	}
	for _, args := range commands {
		t.Run(strings.Join(args[:len(args)-1], " "), func(t *testing.T) {
			t.Parallel()
			state := filepath.Join(t.TempDir(), "secrets.journal")
			if args[0] == "run" {
				// Each run its own state: the parallel runs would otherwise
				// share the one beside the workflow, and its lock.
				args = append([]string{args[0], "-state", state}, args[1:]...)
			}
			r := runCLI(t, env, "", args...)
			t.Logf("stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			if b, err := os.ReadFile(state); err == nil {
				r.stdout += string(b) // the state must hold no secret either
			} else if args[0] == "run" {
				t.Errorf("the run kept no state: %v", err)
			}
			if r.code > 1 {
				t.Fatalf("exit %d:\n%s", r.code, r.stderr)
			}
			checkNoSecrets(t, r, secrets)
			if args[0] == "run" {
				if !strings.Contains(r.stdout, demo.UID) {
					t.Errorf("the run did not reach the sandbox with the credentials:\n%s\n%s", r.stdout, r.stderr)
				}
				if !strings.Contains(r.stdout, "(sensitive)") {
					t.Errorf("the sensitive output is not shown as (sensitive):\n%s", r.stdout)
				}
			}
		})
	}
}
