package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompletionScripts: each shell's script offers every command and
// every flag of run (those of .lua scripts too), and the shell accepts its
// syntax. bash is checked always; zsh and fish when installed.
func TestCompletionScripts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		shell    string
		flagForm func(name string) string // how the script spells a flag
		check    []string                 // the shell's syntax check
	}{
		{"bash", func(n string) string { return " -" + n + " " }, []string{"bash", "-n"}},
		{"zsh", func(n string) string { return "'*-" + n + "[" }, []string{"zsh", "-n"}},
		{"fish", func(n string) string { return " -o " + n + " " }, []string{"fish", "--no-execute"}},
	}
	for _, tt := range tests {
		t.Run(tt.shell, func(t *testing.T) {
			t.Parallel()
			r := runEmpty(t, "completion", tt.shell)
			if r.code != exitOK || r.stderr != "" {
				t.Fatalf("completion %s: exit %d, stderr %s", tt.shell, r.code, r.stderr)
			}
			for _, c := range commandNames() {
				if !strings.Contains(r.stdout, c) {
					t.Errorf("the %s script does not offer the command %s", tt.shell, c)
				}
			}
			for _, f := range commandFlags(t.Context(), "run") {
				if !strings.Contains(strings.ReplaceAll(r.stdout, `"`, " "), tt.flagForm(f.Name)) {
					t.Errorf("the %s script does not offer -%s of run", tt.shell, f.Name)
				}
			}
			if _, err := exec.LookPath(tt.check[0]); err != nil {
				t.Skipf("%s is not installed: its syntax is not checked", tt.check[0])
			}
			file := filepath.Join(t.TempDir(), "okru-run."+tt.shell)
			if err := os.WriteFile(file, []byte(r.stdout), 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.CommandContext(t.Context(), tt.check[0], append(tt.check[1:], file)...).CombinedOutput(); err != nil {
				t.Errorf("%s rejects the script: %v\n%s", tt.shell, err, out)
			}
		})
	}
}

func TestCompletionBadShell(t *testing.T) {
	t.Parallel()
	r := runEmpty(t, "completion", "zhs")
	if r.code != exitInvalid || !strings.Contains(r.stderr, "did you mean zsh?") {
		t.Errorf("completion zhs: exit %d, stderr %s", r.code, r.stderr)
	}
	if r := runEmpty(t, "completion"); r.code != exitInvalid || !strings.Contains(r.stderr, "bash, zsh or fish") {
		t.Errorf("completion: exit %d, stderr %s", r.code, r.stderr)
	}
}
