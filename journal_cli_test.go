package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The attacks of issue 11 on the state journal, run with the binary: two
// names of one journal used at once, -state pointing at a link or at a
// file that is not a journal, a link planted in .okru-run.

// Two runs at once on two names of one journal: the second is refused,
// whatever the name, and the first one's work is done once and recorded
// whole. The first run is stopped (SIGSTOP) while it holds the journal,
// so that the second surely meets it.
func TestBatchLockTwoNames(t *testing.T) {
	t.Parallel()
	sb := startSandboxProc(t)
	// With latency, the first run is surely still in its first call, holding
	// the journal, when the SIGSTOP sent on its first "started" arrives:
	// without it, a loaded machine could let it finish first.
	sb.setLatency(t, 5*time.Second)
	dir := t.TempDir()
	state := filepath.Join(dir, "s")
	args := []string{"-parallelism", "1", "-var", "reads=0", "-var", "posts=5", "-var", "tag=twonames", batchWorkflow}
	started := make(chan struct{})
	var once sync.Once
	first := startRun(t, sb.env, func(p *runProc, e map[string]any) {
		if e["type"] == "started" {
			once.Do(func() {
				_ = p.cmd.Process.Signal(syscall.SIGSTOP)
				close(started)
			})
		}
	}, append([]string{"-state", state}, args...)...)
	<-started
	hard := filepath.Join(dir, "alias")
	if err := os.Link(state, hard); err != nil {
		t.Fatal(err)
	}
	soft := filepath.Join(dir, "link")
	if err := os.Symlink("s", soft); err != nil {
		t.Fatal(err)
	}
	dotdot := filepath.Join(dir, "..", filepath.Base(dir), "s")
	for _, tt := range []struct{ path, want string }{
		{hard, "is in use by another okru-run process"},
		{dotdot, "is in use by another okru-run process"},
		{soft, "is a symbolic link"},
	} {
		r := runCLI(t, sb.env, "", append([]string{"run", "-resume", "-state", tt.path}, args...)...)
		if r.code != exitInvalid || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("-resume -state %s while the first run holds %s: exit %d, stderr:\n%s\nwant exit 2 and %q", tt.path, state, r.code, r.stderr, tt.want)
		}
	}
	sb.setLatency(t, 0)
	_ = first.cmd.Process.Signal(syscall.SIGCONT)
	if code := first.wait(t); code != 0 {
		t.Fatalf("first run: exit %d; stderr:\n%s", code, first.stderr.String())
	}
	// The journal is whole: resumed through its second name, it has every
	// post done and sends none again.
	r := runCLI(t, sb.env, "", append([]string{"run", "-resume", "-state", hard}, args...)...)
	if r.code != 0 || strings.Contains(r.stderr, "damaged") {
		t.Fatalf("resume through %s: exit %d; stderr:\n%s", hard, r.code, r.stderr)
	}
	checkDoneOnce(t, sb.done(t, "twonames"), "post", 5)
}

// -state naming a link, or a file that is not a journal, is refused with
// exit 2 before any call, and the file keeps its mode and content.
func TestStateRefusesOtherFiles(t *testing.T) {
	t.Parallel()
	sb := startSandboxProc(t)
	dir := t.TempDir()
	notes := filepath.Join(dir, "notes")
	if err := os.WriteFile(notes, []byte("my notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// A link planted in a .okru-run folder others can write: the default
	// state of a plain run.
	wf, _ := copyBatchWorkflow(t)
	planted := filepath.Join(filepath.Dir(wf), ".okru-run")
	if err := os.Mkdir(planted, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(planted, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(notes, filepath.Join(planted, "batch.hcl.journal")); err != nil {
		t.Fatal(err)
	}
	link := func(target string) string {
		p := filepath.Join(t.TempDir(), "state")
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"link to a 0644 file", []string{"-state", link(notes), batchWorkflow}, "is a symbolic link"},
		{"link to an empty file", []string{"-state", link(empty), batchWorkflow}, "is a symbolic link"},
		{"a file that is not a journal", []string{"-state", notes, batchWorkflow}, "is not an okru-run journal"},
		{"-fresh on a file that is not a journal", []string{"-fresh", "-state", notes, batchWorkflow}, "is not an okru-run journal"},
		{"an empty file others can read", []string{"-state", empty, batchWorkflow}, "other users can read"},
		{"planted link in .okru-run", []string{wf}, "other users can write (mode 0777)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"run", "-json", "-var", "reads=0", "-var", "posts=1", "-var", "tag=refused"}, tt.args...)
			r := runCLI(t, sb.env, "", args...)
			if r.code != exitInvalid || !strings.Contains(r.stderr, tt.want) || !strings.Contains(r.stderr, "left as it is") {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and %q", r.code, r.stderr, tt.want)
			}
		})
	}
	for path, want := range map[string]string{notes: "my notes\n", empty: ""} {
		fi, err := os.Stat(path)
		b, _ := os.ReadFile(path)
		if err != nil || fi.Mode().Perm() != 0o644 || !bytes.Equal(b, []byte(want)) {
			t.Errorf("%s changed: %v %q (%v)", path, fi.Mode(), b, err)
		}
	}
	if n := len(sb.done(t, "refused")); n != 0 {
		t.Errorf("a refused run posted %d times", n)
	}
}

// A plain run creates .okru-run with mode 0700 and its journal 0600.
func TestStateDefaultFolderMode(t *testing.T) {
	t.Parallel()
	sb := startSandboxProc(t)
	wf, _ := copyBatchWorkflow(t)
	r := runCLI(t, sb.env, "", "run", "-var", "reads=1", "-var", "posts=0", wf)
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	folder := filepath.Join(filepath.Dir(wf), ".okru-run")
	for path, want := range map[string]os.FileMode{folder: 0o700, filepath.Join(folder, "batch.hcl.journal"): 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v, %v; want mode %04o", path, fi.Mode(), err, want)
		}
	}
}
