package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportHTML writes the HTML reports of a failing okru-run test and
// of a run with a failed postcondition, checks that each page is self-
// contained and holds the failures, and opens it in headless Chromium
// (Debian's chromium, installed by .ci/run), checking that the rendered
// page shows the failures and the summary its script writes.
func TestReportHTML(t *testing.T) {
	t.Parallel()
	browser := findBrowser()
	tests := []struct {
		name     string
		args     []string
		code     int
		summary  string
		failures []string
		warnings []string
	}{
		{"test", []string{"test", "testdata/tests/fail"}, exitFailed, "0 passed, 3 failed, 0 skipped.",
			[]string{"assert: wants more than 1000 friends, got 48", "call.friends was expected to fail, but it did not", "failed: call.friends"}, nil},
		{"run", []string{"run", "-sandbox", "-var", "min_friends=100000", "testdata/cli/assertions.hcl"}, exitFailed, "1 passed, 1 failed, 1 skipped.",
			[]string{"postcondition failed: too few friends: 48"}, nil},
		{"run warns", []string{"run", "-sandbox", "testdata/cli/assertions.hcl"}, exitOK, "3 passed (1 with warnings), 0 failed, 0 skipped.",
			nil, []string{"warning: the user has no more than 1000 friends"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "html")
			args := append([]string{tt.args[0], "-report-html", dir}, tt.args[1:]...)
			if r := runCLI(t, nil, "", args...); r.code != tt.code {
				t.Fatalf("exit %d, want %d:\n%s%s", r.code, tt.code, r.stdout, r.stderr)
			}
			page := filepath.Join(dir, "index.html")
			b, err := os.ReadFile(page)
			if err != nil {
				t.Fatal(err)
			}
			for _, external := range []string{`src="http`, `href="http`, `<link`, `@import`} {
				if strings.Contains(string(b), external) {
					t.Errorf("the page is not self-contained: it has %s", external)
				}
			}
			for _, f := range tt.failures {
				if !strings.Contains(string(b), `<p class="failure">`+htmlEscape(f)+`</p>`) {
					t.Errorf("the page does not show the failure %q", f)
				}
			}
			for _, w := range tt.warnings {
				if !strings.Contains(string(b), `<p class="warning">`+htmlEscape(w)+`</p>`) {
					t.Errorf("the page does not show the warning %q", w)
				}
			}
			if browser == "" {
				t.Skip("no headless browser (apt-get install chromium): the HTML report was checked as text, not rendered")
			}
			abs, err := filepath.Abs(page)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.CommandContext(t.Context(), browser, "--headless", "--no-sandbox", "--disable-gpu",
				"--user-data-dir="+t.TempDir(), "--dump-dom", "file://"+abs)
			cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
			dom, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s --dump-dom: %v", browser, err)
			}
			if !strings.Contains(string(dom), tt.summary) {
				t.Errorf("the rendered page lacks the summary %q its script writes:\n%s", tt.summary, dom)
			}
			for _, f := range append(tt.failures, tt.warnings...) {
				if !strings.Contains(string(dom), htmlEscape(f)) {
					t.Errorf("the rendered page does not show %q", f)
				}
			}
		})
	}
}

// findBrowser returns a headless-capable Chromium on PATH, or "".
func findBrowser() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}
