package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestInterruptStopsLuaFunction sends SIGINT to plan and run of a
// workflow whose lua:: function loops for ever. The workflow calls it 30
// times in one expression, so that if the signal did not reach the calls,
// each would end only at its 5s bound and the command would take two and
// a half minutes; a prompt exit 130 shows that it did, with no timing
// assertion. The signal goes once the command has printed the warning of
// its workflow (it then has its handler and is about to evaluate).
// Nothing is planned, called or written.
func TestInterruptStopsLuaFunction(t *testing.T) {
	t.Parallel()
	spins := make([]string, 30)
	for i := range spins {
		spins[i] = fmt.Sprintf("lua::spin(%d)", i)
	}
	list := "[" + strings.Join(spins, ", ") + "]"
	// not_a_parameter makes the warning the test waits for.
	inParams := `session "main" { rate_limit = "unlimited" }
call "info" {
  method = "users.getInfo"
  params = { uids = join(",", ` + list + `), fields = "name", not_a_parameter = 1 }
}
`
	inLocal := `session "main" { rate_limit = "unlimited" }
locals { spun = ` + list + ` }
call "info" {
  method = "users.getInfo"
  params = { uids = join(",", local.spun), fields = "name", not_a_parameter = 1 }
}
`
	tests := []struct {
		name, src string
		args      []string // before the workflow; STATE is the -state file
		message   string
	}{
		{"plan, in params", inParams, []string{"plan"}, "okru-run plan: interrupted; nothing was called"},
		{"plan, in a local", inLocal, []string{"plan"}, "okru-run plan: interrupted; nothing was called"},
		{"run, in params", inParams, []string{"run", "-sandbox", "-state", "STATE"}, "okru-run: interrupted before the first call: nothing was recorded"},
		{"run, in a local", inLocal, []string{"run", "-sandbox", "-state", "STATE"}, "okru-run: interrupted before the first call: nothing was recorded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "lua"), 0o755); err != nil {
				t.Fatal(err)
			}
			lib := "local M = {functions = {}}\nfunction M.functions.spin(i)\n  while true do i = i + 1 end\nend\nreturn M\n"
			if err := os.WriteFile(filepath.Join(dir, "lua", "spin.lua"), []byte(lib), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "wf.hcl"), []byte(tt.src), 0o644); err != nil {
				t.Fatal(err)
			}
			state := filepath.Join(t.TempDir(), "state", "wf.journal")
			var args []string
			for _, a := range tt.args {
				args = append(args, strings.ReplaceAll(a, "STATE", state))
			}
			cmd := okruRun(t, nil, append(args, filepath.Join(dir, "wf.hcl"))...)
			var stdout bytes.Buffer
			cmd.Stdout = &stdout
			errPipe, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			var mu sync.Mutex
			warned := make(chan struct{})
			read := make(chan struct{})
			go func() {
				defer close(read)
				sc := bufio.NewScanner(errPipe)
				once := sync.OnceFunc(func() { close(warned) })
				for sc.Scan() {
					mu.Lock()
					stderr.WriteString(sc.Text() + "\n")
					mu.Unlock()
					if strings.Contains(sc.Text(), "Warning: Unknown parameter") {
						once()
					}
				}
			}()
			select {
			case <-warned:
			case <-read:
				t.Fatalf("it ended before the warning:\n%s", stderr.String())
			case <-time.After(time.Minute):
				t.Fatalf("no warning in a minute:\n%s", stderr.String())
			}
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			// Generous: a stopped command exits in milliseconds; one that
			// waits for the bound of each call takes 150s.
			select {
			case <-read:
			case <-time.After(time.Minute):
				_ = cmd.Process.Kill()
				<-read
				t.Fatalf("still running a minute after SIGINT: the lua:: calls were not stopped\n%s", stderr.String())
			}
			err = cmd.Wait()
			mu.Lock()
			defer mu.Unlock()
			if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
				t.Fatalf("wait: %v, want exit %d; stderr:\n%s", err, exitInterrupted, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.message) {
				t.Errorf("stderr lacks %q:\n%s", tt.message, stderr.String())
			}
			if strings.Contains(stderr.String(), "timeout") {
				t.Errorf("a call ran to its bound:\n%s", stderr.String())
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout: %s", stdout.String())
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if !slices.Equal(names, []string{"lua", "wf.hcl"}) {
				t.Errorf("the workflow's folder holds %v", names)
			}
			if _, err := os.Stat(filepath.Dir(state)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the state was written: %v", err)
			}
		})
	}
}

// TestInterruptStopsLuaValidation: a variable's validation that calls a
// lua:: function looping for ever is stopped by the first signal (a
// cancelled context, in process): exit 130, where the function's 5s bound
// would end it with exit 2 and a timeout.
func TestInterruptStopsLuaValidation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "lua"), 0o755); err != nil {
		t.Fatal(err)
	}
	lib := "return {functions = {spin = function(s) while true do end end}}\n"
	if err := os.WriteFile(filepath.Join(dir, "lua", "spin.lua"), []byte(lib), 0o644); err != nil {
		t.Fatal(err)
	}
	src := `variable "name" {
  type    = string
  default = "x"
  validation {
    condition     = lua::spin(var.name)
    error_message = "no"
  }
}
output "name" { value = var.name }
`
	if err := os.WriteFile(filepath.Join(dir, "wf.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"plan", "run"} {
		t.Run(cmd, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			stop := time.AfterFunc(100*time.Millisecond, cancel) // the signal
			defer stop.Stop()
			r := runCLIContext(ctx, t, nil, "", cmd, filepath.Join(dir, "wf.hcl"))
			if r.code != exitInterrupted {
				t.Fatalf("exit %d, want %d:\n%s", r.code, exitInterrupted, r.stderr)
			}
			if !strings.Contains(r.stderr, "okru-run: interrupted; nothing was called") || strings.Contains(r.stderr, "timeout") {
				t.Errorf("stderr:\n%s", r.stderr)
			}
		})
	}
}
