package okrutest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// BenchmarkCall measures a signed users.getInfo through the sandbox beside a
// baseline, a bare net/http handler that parses the same form and writes a
// fixed answer, over the same client. x-baseline is the sandbox's cost as a
// multiple of the baseline's: what the checks, the graph and the log add.
func BenchmarkCall(b *testing.B) {
	s := NewServer(Config{Seed: 1, Users: 10_000})
	defer s.Close()
	base := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", jsonContentType)
		io.WriteString(w, `[{"uid":"500000000001","first_name":"Анна"}]`+"\n")
	}))
	defer base.Close()

	c := demoCaller(s, circuitServer)
	body := encodeForm(c.prepare("users.getInfo", map[string]string{"uids": s.graph.users[5].uid, "fields": "first_name"}))
	post := func(url string) {
		resp, err := http.Post(url, "application/x-www-form-urlencoded", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Invocation-Error") != "" {
			b.Fatal("error answer")
		}
	}
	var tBase, tSandbox time.Duration
	for b.Loop() {
		t0 := time.Now()
		post(base.URL + "/fb.do")
		t1 := time.Now()
		post(s.URL + "/fb.do")
		tBase += t1.Sub(t0)
		tSandbox += time.Since(t1)
	}
	b.ReportMetric(float64(tBase.Nanoseconds())/float64(b.N), "ns/baseline-call")
	b.ReportMetric(float64(tSandbox.Nanoseconds())/float64(b.N), "ns/sandbox-call")
	b.ReportMetric(float64(tSandbox)/float64(tBase), "x-baseline")
}

// BenchmarkCallParallel drives the sandbox from every CPU, as a benchmark
// of a client's concurrency would.
func BenchmarkCallParallel(b *testing.B) {
	s := NewServer(Config{Seed: 1, Users: 10_000})
	defer s.Close()
	var bodies []string
	for i := range 64 {
		c := demoCaller(s, []string{circuitServer, circuitClient}[i%2])
		bodies = append(bodies, encodeForm(c.prepare("friends.get", map[string]string{"fid": s.graph.users[i].uid})))
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			resp, err := http.Post(s.URL+"/fb.do", "application/x-www-form-urlencoded", strings.NewReader(bodies[i%len(bodies)]))
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			i++
		}
	})
	if n := len(s.Calls()); n < b.N {
		b.Fatalf("%d calls logged for %d", n, b.N)
	}
}
