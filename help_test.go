package main

import (
	"bytes"
	"strings"
	"testing"
)

// runEmpty runs the command line args in process, with an empty
// environment and no input, and returns its exit code, stdout and stderr.
func runEmpty(t *testing.T, args ...string) cliResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := &cliEnv{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}
	code := run(t.Context(), env, args)
	return cliResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func TestFlagSuggestions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string // on stderr
		hide string // never shown
	}{
		{"run", []string{"run", "-sandbx", "examples/whoami.hcl"}, "okru-run run: -sandbx is not a flag of run; did you mean -sandbox?", ""},
		{"implicit run", []string{"examples/whoami.hcl", "--paralelism", "2"}, "-paralelism is not a flag of run; did you mean -parallelism?", ""},
		{"prefix", []string{"plan", "-det", "examples/whoami.hcl"}, "-det is not a flag of plan; did you mean -detail?", ""},
		{"with a value", []string{"run", "-sandbx=yes", "examples/whoami.hcl"}, "did you mean -sandbox?", "yes"},
		{"script", []string{"run", "-timout", "5s", "testdata/x.lua"}, "did you mean -timeout?", ""},
		{"script flag in a workflow run", []string{"run", "-session", "s", "examples/whoami.hcl"}, "-session is a flag of a .lua script run", ""},
		{"validate", []string{"validate", "-jsn", "examples/whoami.hcl"}, "okru-run validate: -jsn is not a flag of validate; did you mean -json?", ""},
		{"fmt", []string{"fmt", "-chek"}, "did you mean -check?", ""},
		{"methods", []string{"methods", "-josn"}, "did you mean -json?", ""},
		{"sandbox", []string{"sandbox", "-sead", "2"}, "did you mean -seed?", ""},
		{"login", []string{"login", "-app_id", "1"}, "did you mean -app-id?", ""},
		{"version", []string{"version", "-jsno"}, "did you mean -json?", ""},
		{"flag of another command", []string{"test", "-sandbox", "examples"}, "okru-run test: -sandbox is not a flag of test (it is a flag of plan, run)", ""},
		{"token", []string{"run", "-s-0123456789abcdef", "examples/whoami.hcl"}, "not a flag this command knows (not shown: it may be a value)", "0123456789abcdef"},
		{"token close to a flag", []string{"run", "-s-4f2a", "examples/whoami.hcl"}, "not a flag this command knows", "4f2a"},
		{"token in a value", []string{"run", "-parallelism", "s-0123456789abcdef", "examples/whoami.hcl"}, "okru-run run: -parallelism: want a whole number (the value given is not shown)", "0123456789abcdef"},
		{"word", []string{"run", "-frobnicate", "examples/whoami.hcl"}, "not a flag this command knows", "frobnicate"},
		{"no value", []string{"plan", "examples/whoami.hcl", "-var"}, "okru-run plan: flag needs an argument: -var", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runEmpty(t, tt.args...)
			if r.code != exitInvalid || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit 2 and %q", r.code, r.stderr, tt.want)
			}
			if tt.hide != "" && strings.Contains(r.stderr, tt.hide) {
				t.Errorf("stderr shows %q:\n%s", tt.hide, r.stderr)
			}
			// One line and a pointer to -h, not the whole usage.
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if len(lines) != 2 || !strings.HasSuffix(lines[1], " -h for its flags.") {
				t.Errorf("stderr is not one line and a pointer to -h:\n%s", r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout: %q", r.stdout)
			}
		})
	}
}

func TestCommandSuggestions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"apply"}, "okru-run: apply is not a command (nor a file); did you mean run?"},
		{[]string{"validte", "examples/whoami.hcl"}, "did you mean validate?"},
		{[]string{"pln"}, "did you mean plan?"},
		{[]string{"metods", "users"}, "did you mean methods?"},
		{[]string{"complet"}, "did you mean completion?"},
		{[]string{"help", "valdate"}, "did you mean validate?"},
		{[]string{"frobnicate"}, "okru-run: frobnicate is not a command (nor a file)\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			r := runEmpty(t, tt.args...)
			if r.code != exitInvalid || !strings.Contains(r.stderr, tt.want) || !strings.HasSuffix(r.stderr, "\nRun okru-run help for the commands.\n") {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2, %q and a pointer to okru-run help", r.code, r.stderr, tt.want)
			}
		})
	}
}

// TestHelpOnStdout: -h, -help and --help of every command, and okru-run
// help COMMAND, print the command's help to stdout and exit 0; the help
// lists every flag the command takes.
func TestHelpOnStdout(t *testing.T) {
	t.Parallel()
	for _, name := range commandNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want := runEmpty(t, "help", name)
			if want.code != exitOK || want.stderr != "" || !strings.HasPrefix(want.stdout, "Usage: okru-run ") {
				t.Fatalf("help %s: exit %d, stdout:\n%s\nstderr:\n%s", name, want.code, want.stdout, want.stderr)
			}
			for _, h := range []string{"-h", "-help", "--help"} {
				if got := runEmpty(t, name, h); got != want {
					t.Errorf("%s %s: exit %d, stdout:\n%s\nstderr:\n%s\nwant what help %s prints", name, h, got.code, got.stdout, got.stderr, name)
				}
			}
			for _, f := range commandFlags(t.Context(), name) {
				if !strings.Contains(want.stdout, "  -"+f.Name+" ") && !strings.Contains(want.stdout, "  -"+f.Name+"\n") &&
					!strings.Contains(want.stdout, "  -"+f.Name+"\t") {
					t.Errorf("help %s does not list -%s:\n%s", name, f.Name, want.stdout)
				}
			}
		})
	}
}

func TestRunHelpShowsScriptFlags(t *testing.T) {
	t.Parallel()
	r := runEmpty(t, "run", "-h")
	_, scriptPart, ok := strings.Cut(r.stdout, "Flags of a .lua script run only")
	if !ok {
		t.Fatalf("run -h has no section for script flags:\n%s", r.stdout)
	}
	for _, f := range []string{"-timeout", "-config", "-session"} {
		if !strings.Contains(scriptPart, "  "+f+" ") {
			t.Errorf("run -h does not list %s among the script flags:\n%s", f, r.stdout)
		}
	}
}

func TestPlanHelpSaysItPlans(t *testing.T) {
	t.Parallel()
	r := runEmpty(t, "plan", "-h")
	_, after, _ := strings.Cut(r.stdout, "  -sandbox\n")
	line, _, _ := strings.Cut(after, "\n")
	if !strings.Contains(line, "nothing is called") || strings.Contains(line, "run against") {
		t.Errorf("plan -h says of -sandbox: %q", line)
	}
	for _, f := range []string{"-sandbox-seed uint", "-sandbox-users int", "-sandbox-latency duration"} {
		_, after, _ := strings.Cut(r.stdout, "  "+f+"\n")
		line, _, _ := strings.Cut(after, "\n")
		if !strings.Contains(line, "without effect: plan calls nothing") {
			t.Errorf("plan -h says of %s: %q", f, line)
		}
	}
	if r := runEmpty(t, "plan", "-sandbox", "-sandbox-latency", "1h", "-sandbox-users", "20", "examples/whoami.hcl"); r.code != exitOK {
		t.Errorf("plan with a run's sandbox flags: exit %d\n%s", r.code, r.stderr)
	}
}

func TestVersionJSON(t *testing.T) {
	t.Parallel()
	if r := runEmpty(t, "version", "-json"); r.code != exitOK || r.stdout != `{"version":"`+version+`"}`+"\n" {
		t.Errorf("version -json: exit %d, %q", r.code, r.stdout)
	}
	if r := runEmpty(t, "--version"); r.code != exitOK || r.stdout != "okru-run "+version+"\n" {
		t.Errorf("--version: exit %d, %q", r.code, r.stdout)
	}
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	candidates := []string{"json", "sandbox", "sandbox-seed", "scope", "parallelism", "detail"}
	for _, tt := range []struct{ typed, want string }{
		{"sandbx", "sandbox"},
		{"jsno", "json"},
		{"JSON", "json"},
		{"sandbox-sed", "sandbox-seed"},
		{"paralellism", "parallelism"},
		{"det", "detail"},      // the only flag it begins
		{"sand", "sandbox"},    // the closest of the two it begins
		{"nope", ""},           // two edits from scope: too far for four letters
		{"s-0123456789ab", ""}, // a token is close to nothing
	} {
		if got := suggest(tt.typed, candidates); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.typed, got, tt.want)
		}
	}
}
