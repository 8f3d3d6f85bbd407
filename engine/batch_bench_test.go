package engine

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/okru-run/okru-run/okru"
	"github.com/okru-run/okru-run/okru/okrutest"
	"github.com/zclconf/go-cty/cty"
)

// Benchmarks of batch runs, each beside its baseline in the same run:
//
//	go test ./engine -run '^$' -bench Batch -benchtime 3x
//
// BenchmarkBatchThroughput: 10,000 users.getInfo calls of one for_each at
// parallelism 8 against the in-process sandbox (no latency, no pacing),
// with and without the state journal, beside a bare net/http loop posting
// the same 10,000 requests, signed beforehand, at the same concurrency.
// The figure is the engine's throughput as a share of the bare loop's
// (goal: at least 60%).
//
// BenchmarkBatchLatency: 1,000 calls with 20 ms of latency injected in the
// sandbox at parallelism 20, whose ideal is 1,000 / 20 × 20 ms = 1 s: the
// figure is the wall time over the ideal (goal: at most 1.15).
//
// BenchmarkBatchMemory: peak heap of runs of 10,000 and 100,000 calls
// whose results no later step reads; the figure is the growth of the peak
// per call between the two (goal: well under 2 KB).

const batchBenchSource = `
variable "uid" { type = string }
variable "ids" { type = list(string) }
session "main" {}
call "info" {
  method   = "users.getInfo"
  for_each = var.ids
  params   = { uids = var.uid, fields = "first_name,last_name", call_id = each.value }
}
`

type batchBench struct {
	srv    *okrutest.Server
	app    okrutest.App
	demo   okrutest.User
	w      *Workflow
	client *http.Client
}

func newBatchBench(b *testing.B) *batchBench {
	b.Helper()
	srv := okrutest.NewServer(okrutest.Config{MaxCalls: 1000})
	b.Cleanup(srv.Close)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return &batchBench{srv: srv, app: srv.App(), demo: srv.DemoUser(), w: compileBench(b, batchBenchSource),
		client: &http.Client{Transport: tr}}
}

func callIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("c%d", i)
	}
	return ids
}

func (bb *batchBench) vars(ids []string) map[string]cty.Value {
	list := make([]cty.Value, len(ids))
	for i, id := range ids {
		list[i] = cty.StringVal(id)
	}
	return map[string]cty.Value{"uid": cty.StringVal(bb.demo.UID), "ids": cty.ListVal(list)}
}

// engine runs the workflow for ids and returns how long it took.
func (bb *batchBench) engine(b *testing.B, ids []string, par int, state string) time.Duration {
	b.Helper()
	in := Inputs{Variables: bb.vars(ids)}
	api := okru.New(okru.ServerSession(bb.app.Key, bb.app.SecretKey, bb.demo.AccessToken, okru.WithAPIURL(bb.srv.URL)),
		&okru.Options{Rate: okru.Unlimited})
	opts := Options{Parallelism: par, Connect: func(context.Context, SessionConfig) (Caller, error) { return api, nil }}
	if state != "" {
		opts.State = &StateOptions{Path: state, Fresh: true}
	}
	begin := time.Now()
	res, diags := bb.w.Run(b.Context(), in, opts)
	took := time.Since(begin)
	if diags.HasErrors() || res.Status != StatusOK || res.Calls != len(ids) {
		b.Fatalf("run: status %v, %d calls: %s", res.Status, res.Calls, diags.Error())
	}
	return took
}

// bare posts the same requests as the workflow, signed beforehand, from
// par goroutines, and returns how long it took.
func (bb *batchBench) bare(b *testing.B, ids []string, par int) time.Duration {
	b.Helper()
	secret := okru.ServerSecret(bb.demo.AccessToken, bb.app.SecretKey)
	bodies := make([]string, len(ids))
	for i, id := range ids {
		p := map[string]string{"application_key": bb.app.Key, "format": "json", "method": "users.getInfo",
			"uids": bb.demo.UID, "fields": "first_name,last_name", "call_id": id}
		p["sig"] = okru.Sign(p, secret)
		p["access_token"] = bb.demo.AccessToken
		form := url.Values{}
		for k, v := range p {
			form.Set(k, v)
		}
		bodies[i] = form.Encode()
	}
	endpoint := bb.srv.URL + "/fb.do"
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	begin := time.Now()
	for range par {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) {
					return
				}
				req, err := http.NewRequestWithContext(b.Context(), http.MethodPost, endpoint, strings.NewReader(bodies[i]))
				if err != nil {
					failed.Store(err)
					return
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := bb.client.Do(req)
				if err != nil {
					failed.Store(err)
					return
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.Header.Get("Invocation-Error") != "" {
					failed.Store(fmt.Errorf("answer %d: %v", resp.StatusCode, err))
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

func BenchmarkBatchThroughput(b *testing.B) {
	const calls, par = 10_000, 8
	bb := newBatchBench(b)
	ids := callIDs(calls)
	dir := b.TempDir()
	var bare, journal, memory time.Duration
	i := 0
	for b.Loop() {
		i++
		// The order changes every time, so that none of the three always
		// runs after the same one (its garbage, its connections).
		runs := []func(){
			func() { bare += bb.bare(b, ids, par) },
			// A new state each time, as a batch job's first run has.
			func() { journal += bb.engine(b, ids, par, filepath.Join(dir, fmt.Sprintf("bench-%d.journal", i))) },
			func() { memory += bb.engine(b, ids, par, "") },
		}
		for k := range runs {
			runs[(k+i)%len(runs)]()
		}
	}
	rate := func(d time.Duration) float64 { return float64(calls*b.N) / d.Seconds() }
	b.ReportMetric(rate(bare), "bare-calls/s")
	b.ReportMetric(rate(journal), "engine-calls/s")
	b.ReportMetric(rate(memory), "engine-nostate-calls/s")
	b.ReportMetric(100*rate(journal)/rate(bare), "engine-%-of-bare")
	b.ReportMetric(100*rate(memory)/rate(bare), "engine-nostate-%-of-bare")
}

func BenchmarkBatchLatency(b *testing.B) {
	const calls, par, latency = 1000, 20, 20 * time.Millisecond
	bb := newBatchBench(b)
	bb.srv.SetLatency(latency)
	ideal := time.Duration(calls/par) * latency
	ids := callIDs(calls)
	dir := b.TempDir()
	var bare, engine time.Duration
	i := 0
	for b.Loop() {
		i++
		bare += bb.bare(b, ids, par)
		engine += bb.engine(b, ids, par, filepath.Join(dir, fmt.Sprintf("bench-%d.journal", i)))
	}
	n := time.Duration(b.N)
	b.ReportMetric((engine / n).Seconds(), "engine-s")
	b.ReportMetric((bare / n).Seconds(), "bare-s")
	b.ReportMetric(float64(engine/n)/float64(ideal), "engine-x-ideal")
	b.ReportMetric(float64(bare/n)/float64(ideal), "bare-x-ideal")
}

func BenchmarkBatchMemory(b *testing.B) {
	bb := newBatchBench(b)
	dir := b.TempDir()
	peaks := map[int]uint64{}
	i := 0
	for b.Loop() {
		for _, calls := range []int{10_000, 100_000} {
			i++
			ids := callIDs(calls)
			path := filepath.Join(dir, fmt.Sprintf("mem-%d.journal", i))
			peak := peakHeap(func() { bb.engine(b, ids, 8, path) })
			peaks[calls] = max(peaks[calls], peak)
		}
	}
	b.ReportMetric(float64(peaks[10_000])/(1<<20), "peak-MB-10k")
	b.ReportMetric(float64(peaks[100_000])/(1<<20), "peak-MB-100k")
	b.ReportMetric(float64(int64(peaks[100_000])-int64(peaks[10_000]))/90_000, "B/call-growth")
}

// peakHeap runs f and returns the most heap in use while it ran, above
// what was in use before, sampled every millisecond.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > base && ms.HeapInuse-base > peak.Load() {
					peak.Store(ms.HeapInuse - base)
				}
			}
		}
	}()
	f()
	close(stop)
	<-done
	return peak.Load()
}
