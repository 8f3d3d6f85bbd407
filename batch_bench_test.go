package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/okru-run/okru-run/okru"
)

// BenchmarkRunProcess measures what batch users run: a whole `okru-run
// run` process of N users.getInfo calls, one per line of a keys file, at
// -parallelism 8 with pacing off and its journal on, against an `okru-run
// sandbox` process without latency:
//
//	go test . -run '^$' -bench RunProcess -benchtime 5x
//
// Beside it, in the same run and in turns, two baselines make the same
// calls at the same concurrency against the same sandbox:
//
//   - bare: a net/http loop in this process, the bodies signed
//     beforehand, its connections and heap warm from the runs before;
//   - bareprocess: testdata/bareprocess, the least a separate Go process
//     does for them (read the keys, sign, post, check the JSON), which
//     pays what every process pays: exec, the runtime's start, new
//     connections, a cold heap.
//
// Reported per N: calls per second of each, and okru-run's as a share of
// each baseline's (goal: at least 80% of bare).
func BenchmarkRunProcess(b *testing.B) {
	bareProcess := filepath.Join(b.TempDir(), "bareprocess")
	build := exec.Command("go", "build", "-o", bareProcess, "./testdata/bareprocess")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build testdata/bareprocess: %v\n%s", err, out)
	}
	for _, calls := range []int{2000, 10_000} {
		b.Run(fmt.Sprintf("calls=%d", calls), func(b *testing.B) { benchRunProcess(b, calls, bareProcess) })
	}
}

func benchRunProcess(b *testing.B, calls int, bareProcess string) {
	const par = 8
	sb := startSandboxProc(b)
	dir := b.TempDir()
	wf, uids := writeKeysWorkflow(b, dir, calls)
	bodies := signedBodies(sb.banner, uids)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	client := &http.Client{Transport: tr}
	var proc, bareProc, bare, procCPU, bareProcCPU, bareCPU time.Duration
	i := 0
	for b.Loop() {
		i++
		state := filepath.Join(dir, fmt.Sprintf("run-%d.journal", i))
		runs := []func(){
			func() {
				begin := time.Now()
				cmd := okruRun(b, sb.env, "run", "-parallelism", fmt.Sprint(par), "-state", state, "-progress", "0", wf)
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("okru-run run: %v\n%s", err, out)
				}
				proc += time.Since(begin)
				procCPU += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
			},
			func() {
				begin := time.Now()
				cmd := exec.CommandContext(b.Context(), bareProcess, "-parallelism", fmt.Sprint(par), filepath.Join(dir, "keys.txt"))
				cmd.Env = sb.env
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("bareprocess: %v\n%s", err, out)
				}
				bareProc += time.Since(begin)
				bareProcCPU += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
			},
			func() {
				before := selfCPU()
				bare += bareLoop(b, client, sb.banner.APIURL+"fb.do", bodies, par)
				bareCPU += selfCPU() - before
			},
		}
		// In turns, so that none always runs after the same one.
		for k := range runs {
			runs[(k+i)%len(runs)]()
		}
	}
	rate := func(d time.Duration) float64 { return float64(calls*b.N) / d.Seconds() }
	perCall := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(calls*b.N) }
	b.ReportMetric(rate(proc), "process-calls/s")
	b.ReportMetric(rate(bareProc), "bareprocess-calls/s")
	b.ReportMetric(rate(bare), "bare-calls/s")
	b.ReportMetric(100*rate(proc)/rate(bare), "process-%-of-bare")
	b.ReportMetric(100*rate(bareProc)/rate(bare), "bareprocess-%-of-bare")
	b.ReportMetric(100*rate(proc)/rate(bareProc), "process-%-of-bareprocess")
	// The client's CPU per call: on 2 cores it is taken from the sandbox.
	b.ReportMetric(perCall(procCPU), "process-cpu-µs/call")
	b.ReportMetric(perCall(bareProcCPU), "bareprocess-cpu-µs/call")
	b.ReportMetric(perCall(bareCPU), "bare-cpu-µs/call")
}

// selfCPU is the CPU time this process has used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBatchPeakRSS measures what a batch costs okru-run in memory as
// the system sees it: the peak resident size of `okru-run run` processes
// making 10,000 and 100,000 calls from a keys file (reads whose results no
// later step uses) against `okru-run sandbox`, each with its state
// journal. The figure is the growth per call between the two (goal: at
// most 1 KiB).
//
//	go test . -run '^$' -bench PeakRSS -benchtime 1x
func BenchmarkBatchPeakRSS(b *testing.B) {
	sb := startSandboxProc(b)
	peaks := map[int]int64{}
	workflows := map[int]string{}
	for _, calls := range []int{10_000, 100_000} {
		workflows[calls], _ = writeKeysWorkflow(b, b.TempDir(), calls)
	}
	for b.Loop() {
		for _, calls := range []int{10_000, 100_000} {
			cmd := okruRun(b, sb.env, "run", "-parallelism", "8", "-state", filepath.Join(b.TempDir(), "rss.journal"),
				"-progress", "0", workflows[calls])
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("%d calls: %v\n%s", calls, err, out)
			}
			ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
			if !ok {
				b.Skip("no rusage on this system")
			}
			peaks[calls] = max(peaks[calls], ru.Maxrss*1024) // kilobytes on Linux
		}
	}
	b.ReportMetric(float64(peaks[10_000])/(1<<20), "peak-RSS-MB-10k")
	b.ReportMetric(float64(peaks[100_000])/(1<<20), "peak-RSS-MB-100k")
	b.ReportMetric(float64(peaks[100_000]-peaks[10_000])/90_000, "B/call-growth")
}

// writeKeysWorkflow writes, in dir, a keys file of n uids and the workflow
// batch users write for it: one users.getInfo per key, pacing off, with
// the session of an okru-run sandbox process's variables. It returns the
// workflow's path and the uids.
func writeKeysWorkflow(tb testing.TB, dir string, n int) (string, []string) {
	tb.Helper()
	uids := make([]string, n)
	for i := range uids {
		uids[i] = fmt.Sprintf("5000%08d", i)
	}
	if err := os.WriteFile(filepath.Join(dir, "keys.txt"), []byte(strings.Join(uids, "\n")+"\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	wf := filepath.Join(dir, "batch.hcl")
	src := `session "main" {
  app_key        = env("OKRU_APP_KEY")
  app_secret_key = env("OKRU_APP_SECRET_KEY")
  access_token   = env("OKRU_ACCESS_TOKEN")
  api_url        = env("OKRU_API_URL")
  rate_limit     = "unlimited"
}
call "info" {
  for_each = toset(split("\n", trimspace(file("keys.txt"))))
  method   = "users.getInfo"
  params   = { uids = each.value, fields = "first_name,last_name" }
}
`
	if err := os.WriteFile(wf, []byte(src), 0o644); err != nil {
		tb.Fatal(err)
	}
	return wf, uids
}

// signedBodies are the form bodies of users.getInfo for each uid, signed
// for the sandbox's demo user with the server-server circuit.
func signedBodies(banner sandboxBanner, uids []string) []string {
	secret := okru.ServerSecret(banner.User.AccessToken, banner.AppSecretKey)
	bodies := make([]string, len(uids))
	for i, uid := range uids {
		p := map[string]string{"application_key": banner.AppKey, "format": "json", "method": "users.getInfo",
			"uids": uid, "fields": "first_name,last_name"}
		p["sig"] = okru.Sign(p, secret)
		p["access_token"] = banner.User.AccessToken
		form := url.Values{}
		for k, v := range p {
			form.Set(k, v)
		}
		bodies[i] = form.Encode()
	}
	return bodies
}

// bareLoop posts bodies to endpoint from par goroutines and returns how
// long it took.
func bareLoop(b *testing.B, client *http.Client, endpoint string, bodies []string, par int) time.Duration {
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	begin := time.Now()
	for range par {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) {
					return
				}
				resp, err := client.Post(endpoint, "application/x-www-form-urlencoded", strings.NewReader(bodies[i]))
				if err != nil {
					failed.Store(err)
					return
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.Header.Get("Invocation-Error") != "" {
					failed.Store(fmt.Errorf("answer %d (%s): %v", resp.StatusCode, resp.Header.Get("Invocation-Error"), err))
					return
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(begin)
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	return took
}
