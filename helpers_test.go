package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/okru-run/okru-run/okru"
	"github.com/okru-run/okru-run/okru/okrutest"
)

// What the CLI tests of this package share: the okru-run binary built once,
// runs of it, golden files, NDJSON lines, credentials and sandbox processes.

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// binary is the okru-run built once for every CLI test.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "okru-run-cli")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "okru-run")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build okru-run:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// okruRun returns the command that runs the binary in the module folder
// with a clean environment (PATH, an empty HOME) plus env. The process is
// killed when the test ends, should it still run.
func okruRun(tb testing.TB, env []string, args ...string) *exec.Cmd {
	tb.Helper()
	cmd := exec.CommandContext(tb.Context(), binary, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + tb.TempDir()}, env...)
	return cmd
}

// cliResult is what one run of the binary printed.
type cliResult struct {
	code           int
	stdout, stderr string
}

// runCLI runs okru-run in process, through run as main does, to its end
// with stdin and an environment of PATH, an empty HOME and env only. Only
// the tests of signals and kills need the binary (okruRun).
func runCLI(t *testing.T, env []string, stdin string, args ...string) cliResult {
	t.Helper()
	return runCLIContext(t.Context(), t, env, stdin, args...)
}

// runCLIContext is runCLI with a context whose end is the first signal.
func runCLIContext(ctx context.Context, t *testing.T, env []string, stdin string, args ...string) cliResult {
	t.Helper()
	var out, errOut lockedBuffer
	code := runInProcess(ctx, t, env, stdin, &out, &errOut, args...)
	return cliResult{code: code, stdout: out.String(), stderr: errOut.String()}
}

// runInProcess runs okru-run in process with stdout and stderr.
func runInProcess(ctx context.Context, t *testing.T, env []string, stdin string, stdout, stderr io.Writer, args ...string) int {
	t.Helper()
	vars := map[string]string{"PATH": os.Getenv("PATH"), "HOME": t.TempDir()}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	if vars["XDG_CONFIG_HOME"] == "" {
		// What os.UserConfigDir makes of the empty HOME, which the
		// process's own HOME would otherwise replace.
		vars["XDG_CONFIG_HOME"] = filepath.Join(vars["HOME"], ".config")
	}
	cenv := &cliEnv{stdin: strings.NewReader(stdin), stdout: stdout, stderr: stderr,
		getenv: func(k string) string { return vars[k] }}
	return run(ctx, cenv, slices.Clone(args))
}

// lockedBuffer is a bytes.Buffer that goroutines may write at once, as a
// pipe may be.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Durations vary from run to run; goldens hold a placeholder.
var durationRE = regexp.MustCompile(`(\(|in )\d+(\.\d+)?(ns|µs|ms|s)\b`)

// and so do the times of JSON lines.
var jsonTimeRE = regexp.MustCompile(`"(elapsed_ms|wait_ms|eta_ms)":\d+`)

func normalize(s string) string {
	s = durationRE.ReplaceAllString(s, "${1}<dur>")
	return jsonTimeRE.ReplaceAllString(s, `"${1}":0`)
}

// checkGolden compares a result with testdata/golden/NAME.golden, or
// rewrites it with -update.
func checkGolden(t *testing.T, name string, r cliResult) {
	t.Helper()
	got := fmt.Sprintf("exit: %d\n-- stdout --\n%s-- stderr --\n%s", r.code, normalize(r.stdout), normalize(r.stderr))
	path := filepath.Join("testdata", "golden", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -run %s -update rewrites it):\n%s", path, t.Name(),
			diffText(string(want), got))
	}
}

func diffText(want, got string) string {
	var b strings.Builder
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			fmt.Fprintf(&b, "line %d:\n  want: %q\n  got:  %q\n", i+1, w, g)
		}
	}
	return b.String()
}

// jsonLines parses NDJSON output, failing on any line that is not an object
// with a type.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line is not a JSON object: %q: %v", sc.Text(), err)
		}
		if _, ok := m["type"].(string); !ok {
			t.Fatalf("line has no type: %q", sc.Text())
		}
		lines = append(lines, m)
	}
	return lines
}

// credentialsEnv gives the demo user of srv to okru-run as a user would,
// through OKRU_* variables, with password as the sensitive variable
// api_password. secrets names each value that no output may show.
func credentialsEnv(srv *okrutest.Server, password string) (env []string, secrets map[string]string) {
	app, demo := srv.App(), srv.DemoUser()
	env = []string{
		"OKRU_APP_KEY=" + app.Key, "OKRU_APP_SECRET_KEY=" + app.SecretKey,
		"OKRU_ACCESS_TOKEN=" + demo.AccessToken, "OKRU_SESSION_SECRET_KEY=" + demo.SessionSecretKey,
		"OKRU_API_URL=" + srv.URL, "OKRU_VAR_api_password=" + password,
	}
	secrets = map[string]string{
		"app secret key":     app.SecretKey,
		"access token":       demo.AccessToken,
		"session secret key": demo.SessionSecretKey,
		"server secret":      okru.ServerSecret(demo.AccessToken, app.SecretKey),
		"sensitive variable": password,
	}
	return env, secrets
}

// sandboxProc is an `okru-run sandbox` process.
type sandboxProc struct {
	banner sandboxBanner
	env    []string      // OKRU_* variables for a workflow's session
	stdout *bufio.Reader // what it prints after the banner
	stderr bytes.Buffer  // its log; read it after stop
	cmd    *exec.Cmd

	interruptOnce, waitOnce sync.Once
	waitErr                 error
}

// startSandboxProc starts `okru-run sandbox` on a free loopback port, with
// more flags, and reads its banner. It is stopped when the test ends.
func startSandboxProc(tb testing.TB, flags ...string) *sandboxProc {
	tb.Helper()
	s := &sandboxProc{cmd: exec.Command(binary, append([]string{"sandbox", "-addr", "127.0.0.1:0"}, flags...)...)}
	s.cmd.Stderr = &s.stderr
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.stop() })
	s.stdout = bufio.NewReader(stdout)
	line, err := s.stdout.ReadString('\n')
	if err != nil {
		_ = s.stop()
		tb.Fatalf("read the sandbox's banner: %v\n%s", err, s.stderr.String())
	}
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s.banner); err != nil {
		tb.Fatalf("banner %q: %v", line, err)
	}
	b := s.banner
	s.env = []string{"OKRU_APP_KEY=" + b.AppKey, "OKRU_APP_SECRET_KEY=" + b.AppSecretKey,
		"OKRU_ACCESS_TOKEN=" + b.User.AccessToken, "OKRU_API_URL=" + b.APIURL}
	return s
}

// interrupt sends the sandbox SIGINT, once: a second one would end it at
// once rather than gently.
func (s *sandboxProc) interrupt() {
	s.interruptOnce.Do(func() { _ = s.cmd.Process.Signal(os.Interrupt) })
}

// stop interrupts the sandbox and waits for its end. Read what is left of
// stdout before.
func (s *sandboxProc) stop() error {
	s.interrupt()
	s.waitOnce.Do(func() { s.waitErr = s.cmd.Wait() })
	return s.waitErr
}

// setLatency delays every API call of the sandbox by d.
func (s *sandboxProc) setLatency(t *testing.T, d time.Duration) {
	t.Helper()
	body := fmt.Sprintf(`{"latency": %q}`, d.String())
	resp, err := http.Post(s.banner.ControlURL+"faults", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("set latency: HTTP %d", resp.StatusCode)
	}
}

// calls returns the sandbox's call log.
func (s *sandboxProc) calls(t *testing.T) []okrutest.Call {
	t.Helper()
	resp, err := http.Get(s.banner.ControlURL + "calls")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var calls []okrutest.Call
	if err := json.NewDecoder(resp.Body).Decode(&calls); err != nil {
		t.Fatal(err)
	}
	return calls
}
