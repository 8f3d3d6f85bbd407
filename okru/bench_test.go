package okru_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/okru-run/okru-run/okru"
	"github.com/okru-run/okru-run/okru/okrutest"
)

// The cost of the client over plain net/http: BenchmarkCall against
// BenchmarkBareHTTP, the same signed users.getCurrentUser request to the
// same sandbox, in one run:
//
//	go test -run '^$' -bench 'Call$|BareHTTP$' -benchmem ./okru
//
// The goal is Call within 1.3x of the bare loop in ns/op and allocs/op.
// Both include the sandbox's own work, which runs in the same process.

func benchSandbox(b *testing.B) *okrutest.Server {
	b.Helper()
	srv := okrutest.NewServer(okrutest.Config{Seed: 1, Users: 200})
	b.Cleanup(srv.Close)
	return srv
}

func BenchmarkCall(b *testing.B) {
	srv := benchSandbox(b)
	app, demo := srv.App(), srv.DemoUser()
	s := okru.ServerSession(app.Key, app.SecretKey, demo.AccessToken, okru.WithAPIURL(srv.URL))
	api := okru.New(s, &okru.Options{Rate: okru.Unlimited})
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := api.Call(ctx, "users.getCurrentUser", nil); err != nil {
			b.Fatal(err)
		}
	}
}

// signedCallBody is the form of a users.getCurrentUser call to srv as the
// demo user, signed once for the bare-HTTP baselines.
func signedCallBody(srv *okrutest.Server) string {
	app, demo := srv.App(), srv.DemoUser()
	params := map[string]string{"application_key": app.Key, "format": "json", "method": "users.getCurrentUser"}
	params["sig"] = okru.Sign(params, okru.ServerSecret(demo.AccessToken, app.SecretKey))
	params["access_token"] = demo.AccessToken
	form := url.Values{}
	for k, v := range params {
		form.Set(k, v)
	}
	return form.Encode()
}

// BenchmarkBareHTTP is the baseline: the request is signed once, outside
// the loop, and each iteration only posts it and reads the answer.
func BenchmarkBareHTTP(b *testing.B) {
	srv := benchSandbox(b)
	body := signedCallBody(srv)
	client := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/fb.do", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		out, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Invocation-Error") != "" || len(out) == 0 {
			b.Fatalf("answer %d %s: %v", resp.StatusCode, out, err)
		}
	}
}

// BenchmarkCallParallel and BenchmarkBareHTTPParallel compare the same
// under parallel callers, where connection reuse matters.
func BenchmarkCallParallel(b *testing.B) {
	srv := benchSandbox(b)
	app, demo := srv.App(), srv.DemoUser()
	s := okru.ServerSession(app.Key, app.SecretKey, demo.AccessToken, okru.WithAPIURL(srv.URL))
	api := okru.New(s, &okru.Options{Rate: okru.Unlimited})
	ctx := b.Context()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := api.Call(ctx, "users.getCurrentUser", nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkBareHTTPParallel(b *testing.B) {
	srv := benchSandbox(b)
	body := signedCallBody(srv)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	client := &http.Client{Transport: tr}
	ctx := b.Context()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/fb.do", strings.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}
