package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// keysWorkflow writes a workflow of one users.getInfo per line of a keys
// file of n keys, as batch users write it, and returns its path. Each
// instance's when reads env("SKIP"), so a test can count instances as they
// are planned.
func keysWorkflow(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	var keys strings.Builder
	for i := range n {
		fmt.Fprintf(&keys, "5000%08d\n", i)
	}
	if err := os.WriteFile(filepath.Join(dir, "keys.txt"), []byte(keys.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	src := `session "main" { rate_limit = "unlimited" }
call "info" {
  for_each = toset(split("\n", trimspace(file("keys.txt"))))
  when     = env("SKIP") != each.key
  method   = "users.getInfo"
  params   = { uids = each.value, fields = "name" }
}
output "calls" { value = length(call.info) }
`
	path := filepath.Join(dir, "keys.hcl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestInterruptStopsPlanning: the first SIGINT or SIGTERM (a cancelled
// context, in process) stops plan, validate and a run's check of a
// 100,000-key batch between instances: exit 130, nothing called, and the
// rest of the keys are not planned.
func TestInterruptStopsPlanning(t *testing.T) {
	t.Parallel()
	path := keysWorkflow(t, 100_000)
	for _, args := range [][]string{{"plan", path}, {"validate", path}, {"run", "-sandbox", path}} {
		t.Run(args[0], func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var planned atomic.Int64
			var stdout, stderr bytes.Buffer
			env := &cliEnv{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(name string) string {
				if name == "SKIP" && planned.Add(1) == 2000 {
					cancel() // the signal
				}
				return ""
			}}
			code := run(ctx, env, args)
			if code != exitInterrupted {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, exitInterrupted, stdout.String(), stderr.String())
			}
			if n := planned.Load(); n > 50_000 {
				t.Errorf("%d instances planned after the interrupt at the 2,000th", n)
			}
			if !strings.Contains(stderr.String(), "interrupted") {
				t.Errorf("stderr does not say it was interrupted:\n%s", stderr.String())
			}
			if args[0] == "run" && !strings.Contains(stderr.String(), "0 calls made") {
				t.Errorf("stderr: %s", stderr.String())
			}
		})
	}
}

// TestPlanSummarisesLargeSteps: a text plan of 100,000 calls shows three
// instances and a count, the session's pace, and every instance with
// -detail.
func TestPlanSummarisesLargeSteps(t *testing.T) {
	t.Parallel()
	path := keysWorkflow(t, 100_000)
	r := runCLI(t, nil, "", "plan", path)
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{
		"call.info: users.getInfo × 100000, the first 3:\n",
		`call.info["500000000000"]: users.getInfo (session "main")`,
		"... and 99997 more instances of call.info (plan -detail shows every one)",
		"calls = 100000",
		`Session "main": not paced (rate_limit = "unlimited").`,
		"Plan: 100000 calls. Nothing was called.",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, r.stdout[:min(len(r.stdout), 2000)])
		}
	}
	if n := strings.Count(r.stdout, "uids   = "); n != 3 {
		t.Errorf("plan shows %d instances, want 3", n)
	}
	r = runCLI(t, nil, "", "plan", "-detail", path)
	if n := strings.Count(r.stdout, "uids   = "); r.code != exitOK || n != 100_000 {
		t.Errorf("plan -detail: exit %d, %d instances shown, want 100000", r.code, n)
	}
}

// TestOneSandbox: run -sandbox serves the data okru-run sandbox serves, so
// ids copied from one work on the other; -sandbox-seed and -sandbox-users
// choose another graph, as -seed and -users do.
func TestOneSandbox(t *testing.T) {
	t.Parallel()
	wf := filepath.Join(t.TempDir(), "me.hcl")
	src := `session "main" {}
call "me" {
  method = "users.getCurrentUser"
}
output "uid" { value = call.me.result.uid }
`
	if err := os.WriteFile(wf, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	uid := func(args ...string) string {
		t.Helper()
		r := runCLI(t, nil, "", append([]string{"run", "-json"}, append(args, wf)...)...)
		if r.code != exitOK {
			t.Fatalf("run %v: exit %d: %s", args, r.code, r.stderr)
		}
		lines := jsonLines(t, r.stdout)
		outs, _ := lines[len(lines)-1]["outputs"].(map[string]any)
		s, _ := outs["uid"].(string)
		return s
	}
	for _, tt := range []struct {
		run     []string
		sandbox []string
	}{
		{[]string{"-sandbox"}, nil},
		{[]string{"-sandbox", "-sandbox-seed", "7", "-sandbox-users", "500"}, []string{"-seed", "7", "-users", "500"}},
	} {
		sb := startSandboxProc(t, tt.sandbox...)
		if got := uid(tt.run...); got == "" || got != sb.banner.User.UID {
			t.Errorf("run %v: uid %q; okru-run sandbox %v serves %q", tt.run, got, tt.sandbox, sb.banner.User.UID)
		}
	}
	if a, b := uid("-sandbox"), uid("-sandbox", "-sandbox-seed", "7"); a == b {
		t.Errorf("seeds 1 and 7 give the same demo user %s", a)
	}
	// -sandbox-latency delays each call at least that long (a lower bound
	// only: a loaded machine is slower, never faster).
	r := runCLI(t, nil, "", "run", "-json", "-sandbox", "-sandbox-latency", "300ms", wf)
	for _, l := range jsonLines(t, r.stdout) {
		if l["type"] == "finished" {
			if ms, _ := l["elapsed_ms"].(float64); ms < 300 {
				t.Errorf("a call with -sandbox-latency 300ms took %v ms", ms)
			}
		}
	}
}
