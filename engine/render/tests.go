package render

import (
	"fmt"
	"io"
	"time"
)

// The output of okru-run test: a line per test file and per run for
// people, or a test_run line per run and a test_summary line last as
// NDJSON (see docs/events.md).

// TestRun is how one run block of a test file ended.
type TestRun struct {
	File     string // the test file
	Name     string
	Status   string // pass, fail, or error when it could not start
	Duration time.Duration
	Failures []string // one line each: why it did not pass
	Warnings []string // one line each: the check blocks that warned
}

// Test statuses of a summary: how okru-run test ended.
const (
	TestPass        = "pass"
	TestFail        = "fail"
	TestInvalid     = "invalid" // a test file or its workflow is invalid: nothing ran
	TestInterrupted = "interrupted"
)

// TestSummary is how okru-run test ended: the runs that passed and those
// that did not (failed, or could not start).
type TestSummary struct {
	Status         string // TestPass, TestFail, TestInvalid or TestInterrupted
	Passed, Failed int
	Elapsed        time.Duration
}

// WriteTestFile writes a test file's line and a line per run, with its
// failures and warnings under it.
func WriteTestFile(w io.Writer, path, status string, d time.Duration, runs []TestRun) {
	fmt.Fprintf(w, "%s: %s (%s)\n", path, status, roundDuration(d))
	for _, r := range runs {
		fmt.Fprintf(w, "  run %q: %s (%s)\n", r.Name, r.Status, roundDuration(r.Duration))
		for _, f := range r.Failures {
			fmt.Fprintf(w, "    %s\n", f)
		}
		for _, x := range r.Warnings {
			fmt.Fprintf(w, "    warning: %s\n", x)
		}
	}
}

// WriteTestSummary writes the totals; nothing when nothing ran, as the
// diagnostics said why.
func WriteTestSummary(w io.Writer, s TestSummary) {
	switch s.Status {
	case TestInterrupted:
		fmt.Fprintf(w, "Interrupted: %d passed, %d failed.\n", s.Passed, s.Failed)
	case TestFail:
		fmt.Fprintf(w, "Failure! %d passed, %d failed.\n", s.Passed, s.Failed)
	case TestPass:
		fmt.Fprintf(w, "Success! %d passed, 0 failed.\n", s.Passed)
	}
}

type jsonTestRun struct {
	Type      string   `json:"type"`
	File      string   `json:"file"`
	Run       string   `json:"run"`
	Status    string   `json:"status"`
	ElapsedMS int64    `json:"elapsed_ms"`
	Failures  []string `json:"failures,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`
}

// TestRun writes the test_run line of a run.
func (j *JSON) TestRun(r TestRun) {
	j.write(jsonTestRun{Type: "test_run", File: r.File, Run: r.Name, Status: r.Status,
		ElapsedMS: r.Duration.Milliseconds(), Failures: r.Failures, Warnings: r.Warnings})
}

// TestSummary writes the test_summary line, the last of okru-run test.
func (j *JSON) TestSummary(s TestSummary) {
	j.write(struct {
		Type      string `json:"type"`
		Status    string `json:"status"`
		Passed    int    `json:"passed"`
		Failed    int    `json:"failed"`
		ElapsedMS int64  `json:"elapsed_ms"`
	}{"test_summary", s.Status, s.Passed, s.Failed, s.Elapsed.Milliseconds()})
}
