package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
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
	var reports reportFlags
	fs := newFlagSet(env, "test", "test [flags] [DIR]")
	fs.Var(&filters, "filter", "run only the test files whose name or path matches this glob `pattern` (repeatable)")
	fs.IntVar(&opts.parallelism, "parallelism", 4, "test files run at once, each with its own sandbox")
	fs.BoolVar(&opts.strictChecks, "strict-checks", false, "make a failed check block fail the run, rather than warn")
	opts.sb.register(fs, "sandbox-", "")
	reports.register(fs)
	fs.StringVar(&color, "color", "auto", "colour: auto, always or never (NO_COLOR also turns it off)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if !checkColorFlag(env, color) || !reports.check(env, "test") {
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
	stdout, stderr := newRedactor(env.stdout, nil), newRedactor(env.stderr, nil)
	defer stdout.Flush()
	defer stderr.Flush()
	useCol := useColor(env, color, env.stderr)
	paths, err := findTestFiles(dir, filters)
	if err != nil {
		fmt.Fprintf(stderr, "okru-run test: %s: %s\n", dir, err)
		return exitInvalid
	}
	if len(paths) == 0 {
		what := fmt.Sprintf("no test files (*%s) in %s or %s", lang.TestFileSuffix, dir, filepath.Join(dir, "tests"))
		if len(filters) > 0 {
			what = "no test file matches -filter " + strings.Join(filters, ", ")
		}
		fmt.Fprintf(stderr, "okru-run test: %s\n", what)
		return exitInvalid
	}
	suites, files, diags := loadSuites(dir, paths)
	if len(diags) > 0 {
		render.Diagnostics(stderr, files, diags, useCol, 0)
	}
	if diags.HasErrors() {
		return exitInvalid
	}
	started := time.Now()
	results := runSuites(ctx, suites, opts)
	var secrets []string
	for _, fr := range results {
		secrets = append(secrets, fr.secrets...)
	}
	stdout.add(secrets)
	stderr.add(secrets)
	code := writeTestResults(stdout, stderr, results, files, useCol, ctx.Err() != nil)
	if reports.any() {
		if err := reports.write(testReport(dir, started, results, files), secrets); err != nil {
			fmt.Fprintf(stderr, "okru-run test: %s\n", err)
			return max(code, exitFailed)
		}
	}
	return code
}

// writeTestResults writes a line per file and per run on stdout, the
// diagnostics of what failed on stderr, and the totals; it returns the
// exit code.
func writeTestResults(stdout, stderr io.Writer, results []fileResult, files map[string]*hcl.File, color, interrupted bool) int {
	passed, failed := 0, 0
	for _, fr := range results {
		for k, f := range fr.files {
			files[k] = f
		}
		fmt.Fprintf(stdout, "%s: %s (%s)\n", fr.Path, fr.Status, roundDuration(fr.Duration))
		for _, rr := range fr.Runs {
			fmt.Fprintf(stdout, "  run %q: %s (%s)\n", rr.Name, rr.Status, roundDuration(rr.Duration))
			for _, f := range rr.Failures {
				fmt.Fprintf(stdout, "    %s\n", f)
			}
			if rr.Status == testPass {
				passed++
			} else {
				failed++
			}
			if len(rr.Diags) > 0 {
				fmt.Fprintf(stderr, "%s, run %q:\n", fr.Path, rr.Name)
				render.Diagnostics(stderr, files, rr.Diags, color, 0)
			}
		}
	}
	switch {
	case interrupted:
		fmt.Fprintf(stdout, "Interrupted: %d passed, %d failed.\n", passed, failed)
		return exitInterrupted
	case failed > 0:
		fmt.Fprintf(stdout, "Failure! %d passed, %d failed.\n", passed, failed)
		return exitFailed
	}
	fmt.Fprintf(stdout, "Success! %d passed, 0 failed.\n", passed)
	return exitOK
}

// roundDuration shows a duration as people read it.
func roundDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}
