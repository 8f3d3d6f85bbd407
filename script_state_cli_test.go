package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScriptStateFlags checks that a script run takes run's batch flags:
// state only with -state, resumable, -shard refused with the reason.
func TestScriptStateFlags(t *testing.T) {
	t.Parallel()
	script := "examples/post-and-verify.lua"
	bad := []struct {
		name string
		args []string
		want string
	}{
		{"shard", []string{"-sandbox", "-shard", "1/2", script, "x"}, "a script run is one script instance, which cannot be split"},
		{"resume without state", []string{"run", "-sandbox", "-resume", script, "x"}, "a script run keeps no state unless -state FILE is given"},
		{"no-state with state", []string{"-no-state", "-state", "s.journal", script, "x"}, "-no-state contradicts -state"},
		{"negative grace", []string{"-grace", "-1s", script, "x"}, "-grace must not be negative"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, nil, "", tt.args...)
			if r.code != exitInvalid || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", r.code, r.stderr, exitInvalid, tt.want)
			}
			if strings.Contains(r.stderr, "not a flag") {
				t.Errorf("a run flag is not defined for scripts:\n%s", r.stderr)
			}
		})
	}

	t.Run("resume a finished script", func(t *testing.T) {
		t.Parallel()
		state := filepath.Join(t.TempDir(), "post.journal")
		first := runCLI(t, nil, "", "run", "-sandbox", "-state", state, "-grace", "5s", "-progress", "0", script, "hello")
		if first.code != exitOK {
			t.Fatalf("first run: exit %d:\n%s", first.code, first.stderr)
		}
		if _, err := os.Stat(state); err != nil {
			t.Fatalf("no state written: %v", err)
		}
		// Another sandbox, the same state: the finished script is not run
		// again, its recorded result is printed.
		again := runCLI(t, nil, "", "-sandbox", "-state", state, "-resume", script, "hello")
		if again.code != exitOK || again.stdout != first.stdout {
			t.Fatalf("resumed run: exit %d, stdout:\n%s\nwant:\n%s\nstderr:\n%s", again.code, again.stdout, first.stdout, again.stderr)
		}
		if !strings.Contains(again.stderr, "done in an earlier run") || strings.Contains(again.stderr, "mediatopic.post ok") {
			t.Errorf("the resumed run did not reuse the script's result:\n%s", again.stderr)
		}
		// Other arguments make another run.
		other := runCLI(t, nil, "", "-sandbox", "-state", state, "-resume", script, "bye")
		if other.code != exitInvalid || !strings.Contains(other.stderr, "The state belongs to another run") {
			t.Errorf("resume with other arguments: exit %d:\n%s", other.code, other.stderr)
		}
	})
}
