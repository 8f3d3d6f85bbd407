package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/engine/render"
	"github.com/okru-run/okru-run/lang"
)

func init() {
	register("test", "run the tests of a workflow folder (*.okrutest.hcl) against the sandbox", cmdTest)
}

// cmdTest is okru-run test [DIR]: every test file of DIR and DIR/tests,
// each against an in-process sandbox of its own, the files in parallel.
// Exit 0 only when every run passes; 2 when a test file or its workflow is
// invalid, before anything is called.
func cmdTest(ctx context.Context, env *cliEnv, args []string) int {
	var filters listFlag
	var opts testOptions
	var color string
	var jsonOut bool
	var reports reportFlags
	fs := newFlagSet(env, "test", "test [flags] [DIR]")
	fs.Var(&filters, "filter", "run only the test files whose name or path matches this glob `pattern` (repeatable)")
	fs.IntVar(&opts.parallelism, "parallelism", 4, "test files run at once, each with its own sandbox")
	fs.BoolVar(&opts.strictChecks, "strict-checks", false, "make a failed check block fail the run, rather than warn")
	opts.sb.register(fs, "sandbox-", "")
	reports.register(fs)
	fs.BoolVar(&jsonOut, "json", false, "write machine-readable NDJSON to stdout")
	fs.StringVar(&color, "color", "auto", "colour: auto, always or never (NO_COLOR also turns it off)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if !checkColorFlag(env, "test", color) || !reports.check(env, "test") {
		return exitInvalid
	}
	if opts.parallelism < 1 {
		fmt.Fprintf(env.stderr, "okru-run test: -parallelism must be at least 1, got %d\n", opts.parallelism)
		return exitInvalid
	}
	dir, ok := workflowPath(env, "test", pos)
	if !ok {
		return exitInvalid
	}
	v := newView(env, viewOptions{json: jsonOut, color: useColor(env, color, env.stderr)})
	defer v.close()
	started := time.Now()
	invalid := func(files map[string]*hcl.File, diags hcl.Diagnostics) int {
		v.Diagnostics(files, diags)
		v.TestSummary(render.TestSummary{Status: render.TestInvalid, Elapsed: time.Since(started)})
		return exitInvalid
	}
	paths, diags := testFiles(dir, filters)
	if diags.HasErrors() {
		return invalid(nil, diags)
	}
	suites, files, diags := loadSuites(dir, paths)
	if diags.HasErrors() {
		return invalid(files, diags)
	}
	v.Diagnostics(files, diags) // warnings
	results := runSuites(ctx, suites, opts)
	var secrets []string
	for _, fr := range results {
		secrets = append(secrets, fr.secrets...)
	}
	v.addSecrets(secrets)
	summary := render.TestSummary{Status: render.TestPass}
	for _, fr := range results {
		for k, f := range fr.files {
			files[k] = f
		}
		v.TestFile(fr, files)
		for _, rr := range fr.Runs {
			if rr.Status == testPass {
				summary.Passed++
			} else {
				summary.Failed++
			}
		}
	}
	code := exitOK
	switch {
	case ctx.Err() != nil:
		summary.Status, code = render.TestInterrupted, exitInterrupted
	case summary.Failed > 0:
		summary.Status, code = render.TestFail, exitFailed
	}
	if reports.any() {
		if err := reports.write(testReport(dir, started, results, files), secrets); err != nil {
			fmt.Fprintf(v.stderr(), "okru-run test: %s\n", err)
			code = max(code, exitFailed)
		}
	}
	summary.Elapsed = time.Since(started)
	v.TestSummary(summary)
	return code
}

// testFiles finds the test files of dir, or says why there are none.
func testFiles(dir string, filters []string) ([]string, hcl.Diagnostics) {
	cannot := func(why string) hcl.Diagnostics {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read the test folder",
			Detail: why + ". Give the folder of a workflow: its test files are in it or in its tests folder."}}
	}
	if st, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil, cannot(dir + ": no such folder")
	} else if err == nil && !st.IsDir() {
		return nil, cannot(dir + " is a file, not a folder")
	}
	paths, err := findTestFiles(dir, filters)
	if err != nil {
		return nil, cannot(err.Error())
	}
	if len(paths) > 0 {
		return paths, nil
	}
	detail := fmt.Sprintf("There are no test files (*%s) in %s or %s.", lang.TestFileSuffix, dir, filepath.Join(dir, "tests"))
	if len(filters) > 0 {
		// Not the patterns: one may be a value typed in the wrong place.
		detail = fmt.Sprintf("No test file of %s matches the -filter patterns given (%d, not shown).", dir, len(filters))
	}
	return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "No test files", Detail: detail}}
}
