package main

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/engine/render"
)

// The views of okru-run test: a file's runs and the totals, as text (the
// lines on stdout, the diagnostics on stderr) or as NDJSON (a test_run
// line per run after its diagnostics, and test_summary last).

func (v *textView) TestFile(fr fileResult, files map[string]*hcl.File) {
	render.WriteTestFile(v.stdout, fr.Path, string(fr.Status), fr.Duration, testRuns(fr))
	for _, rr := range fr.Runs {
		v.runDiagnostics(fr.Path, rr, files)
	}
}

func (v *textView) TestSummary(s render.TestSummary) { render.WriteTestSummary(v.stdout, s) }

func (v *jsonView) TestFile(fr fileResult, files map[string]*hcl.File) {
	runs := testRuns(fr)
	for i, rr := range fr.Runs {
		v.runDiagnostics(fr.Path, rr, files)
		v.j.Diagnostics(files, rr.Diags)
		v.j.TestRun(runs[i])
	}
}

func (v *jsonView) TestSummary(s render.TestSummary) { v.j.TestSummary(s) }

// runDiagnostics shows the diagnostics of a run as text on stderr, under
// the run's name, since runs of many files may say the same.
func (o *outputs) runDiagnostics(path string, rr runResult, files map[string]*hcl.File) {
	if len(rr.Diags) == 0 {
		return
	}
	fmt.Fprintf(o.errs, "%s, run %q:\n", path, rr.Name)
	o.textDiagnostics(files, rr.Diags)
}

// testRuns are the runs of a file as the views show them.
func testRuns(fr fileResult) []render.TestRun {
	out := make([]render.TestRun, len(fr.Runs))
	for i, rr := range fr.Runs {
		out[i] = render.TestRun{File: fr.Path, Name: rr.Name, Status: string(rr.Status), Duration: rr.Duration,
			Failures: rr.Failures, Warnings: rr.Warnings}
	}
	return out
}
