package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/okru-run/okru-run/engine"
	"github.com/okru-run/okru-run/okru"
)

// The tests of this file run okru-run as a CI batch job does: the built
// binary against `okru-run sandbox` started as a process, stopped by
// signals, resumed, split into shards. The sandbox's call log says what
// was really done.

const batchWorkflow = "testdata/batch/batch.hcl"

// done counts the calls the sandbox carried out, by what they were about:
// "read N" and "post N" (the tag of posts is tag). Calls abandoned by the
// client before the sandbox ran them are not counted.
func (s *sandboxProc) done(t *testing.T, tag string) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, c := range s.calls(t) {
		if c.Abandoned || c.Code != 0 {
			continue
		}
		switch c.Method {
		case "users.getInfo":
			m["read "+strings.TrimPrefix(c.Params["call_id"], "read-")]++
		case "mediatopic.post":
			var att struct {
				Media []struct{ Text string } `json:"media"`
			}
			if err := json.Unmarshal([]byte(c.Params["attachment"]), &att); err != nil || len(att.Media) == 0 {
				t.Fatalf("post without a text: %v", c.Params)
			}
			if n, ok := strings.CutPrefix(att.Media[0].Text, tag+"-"); ok {
				m["post "+n]++
			}
		}
	}
	return m
}

// checkDoneOnce fails for each of what 0 to n-1 ("read 0", "post 7")
// that the sandbox did other than once, by done's counts.
func checkDoneOnce(t *testing.T, done map[string]int, what string, n int) bool {
	t.Helper()
	ok := true
	for i := range n {
		if got := done[fmt.Sprint(what, " ", i)]; got != 1 {
			t.Errorf("%s %d done %d times, want once", what, i, got)
			ok = false
		}
	}
	return ok
}

// copyBatchWorkflow copies the batch workflow into a folder of its own,
// where its default state goes, and returns the copy's path and text.
func copyBatchWorkflow(t *testing.T) (wf string, src []byte) {
	t.Helper()
	src, err := os.ReadFile(batchWorkflow)
	if err != nil {
		t.Fatal(err)
	}
	wf = filepath.Join(t.TempDir(), "batch.hcl")
	if err := os.WriteFile(wf, src, 0o644); err != nil {
		t.Fatal(err)
	}
	return wf, src
}

// runProc is one `okru-run run -json` process; onEvent sees each NDJSON
// line as it comes and may stop the process.
type runProc struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	events []map[string]any
	mu     sync.Mutex
	// drained is closed when stdout has been read to its end: os/exec
	// says Wait must not be called before, as it closes the pipe and
	// the last events would be lost.
	drained chan struct{}
}

// resumeToEnd resumes the run of args to its end: unknown outcomes
// (unknown lists them) stay reported, not sent. It fails the test unless
// the run ends well, or exits 1 for unknown outcomes and says how to send
// them again; it returns the run and the unknown instances.
func resumeToEnd(t *testing.T, env, args []string, unknown func(*runProc) []string) (*runProc, []string) {
	t.Helper()
	p := startRun(t, env, nil, append([]string{"-resume"}, args...)...)
	code := p.wait(t)
	u := unknown(p)
	if code != 0 && (code != 1 || len(u) == 0) {
		t.Fatalf("final run: exit %d; stderr:\n%s", code, p.stderr.String())
	}
	if code == 1 && !strings.Contains(p.stderr.String(), "-retry-unknown") {
		t.Errorf("the final run does not say how to send the unknown writes again:\n%s", p.stderr.String())
	}
	return p, u
}

// killRuns runs okru-run with args, then with -resume, up to kills times,
// each killed by SIGKILL after a seeded random number of finished calls (at
// most calls/kills), so that the kills land at random points whatever the
// machine's speed. It stops early at a run that ends before its kill:
// exit 0, or exit 1 when hasUnknown says it met writes of unknown outcome
// (a resumed run does not send them). It returns the number of runs
// killed, failing the test when there was none.
func killRuns(t *testing.T, env, args []string, kills, calls int, rnd *rand.Rand, hasUnknown func(*runProc) bool) int {
	t.Helper()
	killed := 0
	for i := 0; i < kills; i++ {
		at := 1 + rnd.IntN(calls/kills)
		runArgs := args
		if i > 0 {
			runArgs = append([]string{"-resume"}, args...)
		}
		var once sync.Once
		p := startRun(t, env, func(p *runProc, e map[string]any) {
			if e["type"] == "finished" && p.count("finished", "") >= at {
				once.Do(func() { _ = p.cmd.Process.Signal(syscall.SIGKILL) })
			}
		}, runArgs...)
		code := p.wait(t)
		ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
		killedNow := ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
		if code == 0 || code == 1 && !killedNow && hasUnknown(p) {
			t.Logf("run %d finished before its kill at %d calls (exit %d)", i+1, at, code)
			break
		}
		if !killedNow {
			t.Fatalf("run %d: exit %d, not killed; stderr:\n%s", i+1, code, p.stderr.String())
		}
		killed++
		t.Logf("run %d killed after %d finished calls (%d reused)", i+1, p.count("finished", ""), p.count("reused", ""))
	}
	if killed == 0 {
		t.Fatal("no run was killed")
	}
	return killed
}

func startRun(t *testing.T, env []string, onEvent func(p *runProc, e map[string]any), args ...string) *runProc {
	t.Helper()
	p := &runProc{cmd: okruRun(t, env, append([]string{"run", "-json"}, args...)...), drained: make(chan struct{})}
	p.cmd.Stderr = &p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.drained)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var e map[string]any
			if json.Unmarshal(sc.Bytes(), &e) != nil {
				continue
			}
			p.mu.Lock()
			p.events = append(p.events, e)
			p.mu.Unlock()
			if onEvent != nil {
				onEvent(p, e)
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	return p
}

// wait waits for the process and returns its exit code, -1 when a signal
// ended it.
func (p *runProc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.drained:
	case <-time.After(2 * time.Minute):
		_ = p.cmd.Process.Kill()
		<-p.drained
		_ = p.cmd.Wait()
		t.Fatalf("okru-run run did not end; stderr:\n%s", p.stderr.String())
	}
	_ = p.cmd.Wait()
	return p.cmd.ProcessState.ExitCode()
}

func (p *runProc) count(typ, step string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, e := range p.events {
		if e["type"] == typ && (step == "" || e["step"] == step) {
			n++
		}
	}
	return n
}

// keys returns the keys of the events of a type for a step.
func (p *runProc) keys(typ, step string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, e := range p.events {
		if e["type"] == typ && e["step"] == step {
			out = append(out, fmt.Sprint(e["key"]))
		}
	}
	return out
}

// The crash test: a 2,000-call batch with 800 writes, killed with SIGKILL
// at random points and resumed each time until done. Then every read has
// been done and every write exactly once, except writes reported as
// "outcome unknown", which were done at most once.
func TestBatchSurvivesKills(t *testing.T) {
	t.Parallel()
	reads, posts, kills := 1199, 800, 5 // and call.me: 2,000 calls
	if testing.Short() {
		reads, posts, kills = 149, 100, 2
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("OKRU_CRASH_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (set OKRU_CRASH_SEED to repeat)", seed)
	rnd := rand.New(rand.NewPCG(seed, 0))

	sb := startSandboxProc(t)
	state := filepath.Join(t.TempDir(), "batch.journal")
	args := []string{"-parallelism", "8", "-state", state, "-var", fmt.Sprint("reads=", reads), "-var", fmt.Sprint("posts=", posts), batchWorkflow}
	killed := killRuns(t, sb.env, args, kills, reads+posts, rnd, func(p *runProc) bool {
		return len(p.keys("outcome_unknown", "call.post")) > 0
	})

	p, unknown := resumeToEnd(t, sb.env, args, func(p *runProc) []string { return p.keys("outcome_unknown", "call.post") })
	if n := p.count("started", ""); n+p.count("reused", "")+len(unknown) < reads+posts+1 {
		t.Errorf("final run: %d started, %d reused, %d unknown; %d calls are missing", n, p.count("reused", ""), len(unknown), reads+posts+1)
	}
	t.Logf("%d kills; the final run made %d calls, reused %d, and reports %d writes of unknown outcome",
		killed, p.count("started", ""), p.count("reused", ""), len(unknown))

	done := sb.done(t, "post")
	isUnknown := map[string]bool{}
	for _, k := range unknown {
		isUnknown[k] = true
	}
	for i := range reads {
		if done[fmt.Sprint("read ", i)] < 1 {
			t.Errorf("read %d was never done", i)
		}
	}
	for i := range posts {
		n := done[fmt.Sprint("post ", i)]
		switch {
		case isUnknown[strconv.Itoa(i)] && n > 1:
			t.Errorf("post %d, of unknown outcome, was done %d times, want at most once", i, n)
		case !isUnknown[strconv.Itoa(i)] && n != 1:
			t.Errorf("post %d was done %d times, want exactly once", i, n)
		}
	}

	// The state holds results but no secret.
	b, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	bn := sb.banner
	for what, s := range map[string]string{"app secret key": bn.AppSecretKey, "access token": bn.User.AccessToken,
		"session secret key": bn.User.SessionSecretKey, "server secret": okru.ServerSecret(bn.User.AccessToken, bn.AppSecretKey)} {
		if strings.Contains(string(b), s) {
			t.Errorf("the state holds the %s", what)
		}
	}
	if fi, err := os.Stat(state); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state mode = %v, %v; want 0600", fi.Mode(), err)
	}
}

// The first SIGINT stops the run gently: the calls in flight finish and
// are recorded, the run says how to resume and exits 130; the resumed run
// repeats nothing.
func TestBatchSIGINT(t *testing.T) {
	t.Parallel()
	sb := startSandboxProc(t)
	sb.setLatency(t, 50*time.Millisecond)
	state := filepath.Join(t.TempDir(), "sigint.journal")
	args := []string{"-parallelism", "4", "-progress", "100ms", "-state", state, "-var", "reads=0", "-var", "posts=60", "-var", "tag=sigint", batchWorkflow}
	var once sync.Once
	p := startRun(t, sb.env, func(p *runProc, e map[string]any) {
		if e["type"] == "finished" && e["step"] == "call.post" && p.count("finished", "call.post") >= 20 {
			once.Do(func() { _ = p.cmd.Process.Signal(os.Interrupt) })
		}
	}, args...)
	if code := p.wait(t); code != exitInterrupted {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitInterrupted, p.stderr.String())
	}
	stderr := p.stderr.String()
	for _, want := range []string{"okru-run: interrupted: ", "the state is in " + state,
		"to continue: okru-run run -resume -json -parallelism 4 -progress 100ms -state " + state} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if p.count("stopping", "") != 1 || p.count("progress", "") == 0 {
		t.Errorf("%d stopping and %d progress events; want 1 and some", p.count("stopping", ""), p.count("progress", ""))
	}
	// Every post that started finished within the grace period.
	started, finished := p.count("started", "call.post"), p.count("finished", "call.post")
	if started != finished || started >= 60 {
		t.Errorf("%d posts started, %d finished; want all started ones finished, and not all 60", started, finished)
	}

	sb.setLatency(t, 0)
	p = startRun(t, sb.env, nil, append([]string{"-resume"}, args...)...)
	if code := p.wait(t); code != 0 {
		t.Fatalf("resumed run: exit %d; stderr:\n%s", code, p.stderr.String())
	}
	if n := p.count("reused", "call.post"); n != finished {
		t.Errorf("the resumed run reused %d posts, want %d", n, finished)
	}
	checkDoneOnce(t, sb.done(t, "sigint"), "post", 60)
}

// A second SIGINT ends the process at once, without waiting for the calls
// in flight: their outcome is unknown to the resumed run, which does not
// send them again unless -retry-unknown says so.
func TestBatchSecondSIGINT(t *testing.T) {
	t.Parallel()
	sb := startSandboxProc(t)
	// Long enough that the process is surely gone, however loaded the
	// machine, before the sandbox would answer a post in flight: it then
	// drops them, as their client went away.
	sb.setLatency(t, time.Minute)
	state := filepath.Join(t.TempDir(), "twice.journal")
	args := []string{"-parallelism", "4", "-grace", "10m", "-state", state, "-var", "reads=0", "-var", "posts=20", "-var", "tag=twice", batchWorkflow}
	var first, second sync.Once
	p := startRun(t, sb.env, func(p *runProc, e map[string]any) {
		if e["type"] == "started" && p.count("started", "") == 4 { // call.me and 3 posts
			first.Do(func() { _ = p.cmd.Process.Signal(os.Interrupt) })
		}
		if e["type"] == "stopping" {
			// The first signal's handler gives the signal back to the
			// system an instant after the run stops; signal until the
			// process is gone.
			second.Do(func() {
				go func() {
					for p.cmd.Process.Signal(os.Interrupt) == nil {
						time.Sleep(50 * time.Millisecond)
					}
				}()
			})
		}
	}, args...)
	if code := p.wait(t); code != exitInterrupted {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitInterrupted, p.stderr.String())
	}
	sent := p.count("started", "call.post")
	if p.count("finished", "") != 0 || sent == 0 {
		t.Errorf("%d calls finished, %d posts started; the process was meant to end with its calls in flight", p.count("finished", ""), sent)
	}

	sb.setLatency(t, 0)
	p = startRun(t, sb.env, nil, append([]string{"-resume"}, args...)...)
	if code := p.wait(t); code != exitFailed {
		t.Fatalf("resumed run: exit %d, want 1 for the unknown outcomes; stderr:\n%s", code, p.stderr.String())
	}
	unknown := p.keys("outcome_unknown", "call.post")
	if len(unknown) != sent || p.count("finished", "call.post") != 20-sent {
		t.Errorf("resumed run: %d unknown, %d posts made; want %d and %d", len(unknown), p.count("finished", "call.post"), sent, 20-sent)
	}
	// What the tool itself sent, by its own events: the resumed run none
	// of the posts of unknown outcome, -retry-unknown exactly those.
	for _, k := range p.keys("started", "call.post") {
		if slices.Contains(unknown, k) {
			t.Errorf("resumed run sent post %s again, whose outcome was unknown", k)
		}
	}
	p = startRun(t, sb.env, nil, append([]string{"-resume", "-retry-unknown"}, args...)...)
	if code := p.wait(t); code != 0 {
		t.Fatalf("-retry-unknown run: exit %d; stderr:\n%s", code, p.stderr.String())
	}
	if retriedKeys := p.keys("started", "call.post"); !sameKeys(retriedKeys, unknown) {
		t.Errorf("-retry-unknown sent posts %v, want those of unknown outcome %v", retriedKeys, unknown)
	}
	// The tool's promise: every post once, except those of unknown
	// outcome, which -retry-unknown was asked to send again: once more at
	// most. The sandbox carries out some of them twice: a post the killed
	// run had sent may still wait unread in the sandbox's socket when the
	// latency drops to 0; read then, it is carried out at once, client gone
	// or not (as ok.ru may), and -retry-unknown sends it again. Seen in 1
	// of 40 runs beside CPU hogs (the log below tells it: the first posts
	// done before the resumed run's, not abandoned).
	done := sb.done(t, "twice")
	retried := map[string]bool{}
	for _, k := range unknown {
		retried["post "+k] = true
	}
	twice := false
	for i := range 20 {
		what := fmt.Sprint("post ", i)
		switch n := done[what]; {
		case n == 1:
		case n == 2 && retried[what]:
			twice = true
		default:
			t.Errorf("%s done %d times, want once (or twice if of unknown outcome: %v)", what, n, retried[what])
		}
	}
	if twice || t.Failed() {
		for _, c := range sb.calls(t) {
			if c.Method == "mediatopic.post" {
				t.Logf("sandbox: mediatopic.post at %s: code %d, abandoned %v, %s", c.Time.Format("15:04:05.000"), c.Code, c.Abandoned, c.Params["attachment"])
			}
		}
	}
}

// sameKeys reports whether a and b hold the same keys, in any order.
func sameKeys(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// Two runs of one workflow cannot share a state: the second fails at
// once, naming the state and the first one's pid.
func TestBatchLock(t *testing.T) {
	t.Parallel()
	sb := startSandboxProc(t)
	sb.setLatency(t, 5*time.Second)
	state := filepath.Join(t.TempDir(), "locked.journal")
	args := []string{"-state", state, "-var", "reads=0", "-var", "posts=3", "-var", "tag=lock", batchWorkflow}
	started := make(chan struct{})
	var once sync.Once
	first := startRun(t, sb.env, func(p *runProc, e map[string]any) {
		if e["type"] == "started" {
			once.Do(func() { close(started) })
		}
	}, args...)
	defer func() {
		_ = first.cmd.Process.Kill()
		first.wait(t)
	}()
	<-started
	r := runCLI(t, sb.env, "", append([]string{"run", "-resume"}, args...)...)
	want := fmt.Sprintf("State %s is in use by another okru-run process (pid %d)", state, first.cmd.Process.Pid)
	if r.code != exitInvalid || !strings.Contains(r.stderr, want) {
		t.Fatalf("second run: exit %d, stderr:\n%s\nwant exit 2 and %q", r.code, r.stderr, want)
	}
}

// A resumed run must be the same run: a changed workflow file or changed
// variables are refused with what to do.
func TestBatchResumeChangedWorkflow(t *testing.T) {
	t.Parallel()
	sb := startSandboxProc(t)
	wf, src := copyBatchWorkflow(t)
	dir := filepath.Dir(wf)
	// No -state: the default is .okru-run/ beside the workflow.
	var once sync.Once
	p := startRun(t, sb.env, func(p *runProc, e map[string]any) {
		if e["type"] == "finished" && p.count("finished", "call.post") >= 3 {
			once.Do(func() { _ = p.cmd.Process.Signal(syscall.SIGKILL) })
		}
	}, "-parallelism", "1", "-var", "reads=0", "-var", "posts=200", "-var", "tag=changed", wf)
	p.wait(t)
	state := filepath.Join(dir, ".okru-run", "batch.hcl.journal")
	if _, err := os.Stat(state); err != nil {
		t.Fatalf("no state at the default place: %v", err)
	}
	if err := os.WriteFile(wf, append(src, []byte("\n# edited\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"without -resume", []string{"-var", "posts=200"}, []string{"did not finish", "-resume", "-fresh"}},
		{"workflow changed", []string{"-resume", "-var", "posts=200"}, []string{"The state belongs to another run", "the workflow files changed", "-fresh"}},
		{"variables changed", []string{"-resume", "-var", "posts=201"}, []string{"the workflow files changed; the variables have other values"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"run"}, tt.args...)
			r := runCLI(t, sb.env, "", append(args, "-var", "reads=0", "-var", "tag=changed", wf)...)
			if r.code != exitInvalid {
				t.Fatalf("exit %d, want 2; stderr:\n%s", r.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
		})
	}
	if r := runCLI(t, sb.env, "", "run", "-fresh", "-var", "reads=0", "-var", "posts=200", "-var", "tag=changed", wf); r.code != 0 {
		t.Fatalf("-fresh: exit %d; stderr:\n%s", r.code, r.stderr)
	}
}

// Three shards of one batch, run at once as the jobs of a CI matrix, each
// with its default state: every instance is done exactly once.
func TestBatchShards(t *testing.T) {
	t.Parallel()
	sb := startSandboxProc(t)
	wf, _ := copyBatchWorkflow(t)
	dir := filepath.Dir(wf)
	const shards = 3
	var wg sync.WaitGroup
	results := make([]cliResult, shards)
	for i := range shards {
		wg.Go(func() {
			results[i] = runCLI(t, sb.env, "", "run", "-shard", fmt.Sprintf("%d/%d", i+1, shards),
				"-var", "reads=100", "-var", "posts=150", "-var", "tag=shard", wf)
		})
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 {
			t.Fatalf("shard %d: exit %d; stderr:\n%s", i+1, r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "this shard's share of 150") {
			t.Errorf("shard %d does not say it runs a share:\n%s", i+1, r.stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, ".okru-run", fmt.Sprintf("batch.hcl.shard-%d-of-%d.journal", i+1, shards))); err != nil {
			t.Errorf("shard %d: %v", i+1, err)
		}
	}
	done := sb.done(t, "shard")
	checkDoneOnce(t, done, "read", 100)
	checkDoneOnce(t, done, "post", 150)
}

func TestBatchFlagsRejected(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-resume", "-fresh"}, "-resume and -fresh contradict each other"},
		{[]string{"-retry-unknown"}, "-retry-unknown applies to a resumed run: add -resume"},
		{[]string{"-no-state", "-resume"}, "-no-state contradicts"},
		{[]string{"-shard", "4/3"}, "-shard: shard 4/3 is out of range"},
		{[]string{"-shard", "two"}, "-shard: want I/N"},
		{[]string{"-grace", "-1s"}, "-grace must not be negative"},
		{[]string{"-sandbox", "-resume"}, "-sandbox runs keep no state to resume unless -state FILE is given"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, nil, "", append(append([]string{"run"}, tt.args...), "examples/whoami.hcl")...)
			if r.code != exitInvalid || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, tt.want)
			}
		})
	}
}

func TestResumeCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"wf.hcl"}, "okru-run run -resume wf.hcl"},
		{[]string{"-fresh", "-var", "msg=hello world", "wf.hcl"}, "okru-run run -resume -var 'msg=hello world' wf.hcl"},
		{[]string{"--resume", "-shard", "2/4", "it's.hcl"}, `okru-run run -resume -shard 2/4 'it'\''s.hcl'`},
	}
	for _, tt := range tests {
		if got, hidden := resumeCommand(tt.args, []string{"s3cret"}, nil); got != tt.want || hidden {
			t.Errorf("resumeCommand(%q) = %q, %v; want %q", tt.args, got, hidden, tt.want)
		}
	}
}

// An interrupted run counts its calls in words, and its resume command
// shows "..." for a sensitive -var value, with a note to give it again,
// not the [REDACTED] its redacting stderr would make of it.
func TestReportInterrupted(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	w := newRedactor(&b, []string{"s3cret"})
	state := filepath.Join(t.TempDir(), "st.journal")
	opts := &engine.Options{State: &engine.StateOptions{Path: state}}
	args := []string{"-var", "password=s3cret", "-var=token=xs3cretx", "--var", "msg=hi", "wf.hcl"}
	// Interrupted before the journal was opened: nothing to resume.
	(&batchFlags{}).reportInterrupted(w, opts, &engine.Result{}, args, nil)
	w.Flush()
	if got := b.String(); got != "okru-run: interrupted before the first call: nothing was recorded, so a new run starts over\n" {
		t.Errorf("before the journal: %s", got)
	}
	b.Reset()
	if err := os.WriteFile(state, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	(&batchFlags{}).reportInterrupted(w, opts, &engine.Result{Calls: 1}, args, nil)
	w.Flush()
	got := b.String()
	want := "okru-run: interrupted: 1 call made; the state is in " + state + "\n" +
		"okru-run: to continue: okru-run run -resume -var password=... -var=token=... --var msg=hi wf.hcl\n" +
		"okru-run: sensitive values are not shown (... or [REDACTED]): give them again in their place\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	b.Reset()
	(&batchFlags{}).reportInterrupted(w, opts, &engine.Result{Calls: 3}, []string{"wf.hcl"}, nil)
	w.Flush()
	if got := b.String(); !strings.Contains(got, "3 calls made") || strings.Contains(got, "sensitive") {
		t.Errorf("got:\n%s", got)
	}
}
