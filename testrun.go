package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/engine"
	"github.com/okru-run/okru-run/lang"
	"github.com/zclconf/go-cty/cty"
)

// Running test files (see lang.LoadTestFile): each file against its own
// in-process sandbox, its runs one after another, the files in parallel.
// The results are kept whole, for the text output and the reports.

// testStatus is how a run or a file ended.
type testStatus string

const (
	testPass  testStatus = "pass"
	testFail  testStatus = "fail"  // an assert or an expectation did not hold, or a call failed
	testError testStatus = "error" // the run could not start (a variable, a session)
)

// testSuite is a test file ready to run: loaded, with its workflow
// compiled and its runs checked against it.
type testSuite struct {
	file *lang.TestFile
	cfg  *lang.Config
	wf   *engine.Workflow
}

// fileResult is how a test file ran.
type fileResult struct {
	Path     string
	Status   testStatus
	Started  time.Time
	Duration time.Duration
	Runs     []runResult
	secrets  []string             // of its sandbox and variables, for the redactors
	files    map[string]*hcl.File // for snippets
}

// runResult is how one run block ran.
type runResult struct {
	Name     string
	Status   testStatus
	Started  time.Time
	Duration time.Duration
	// Failures say, one line each, why the run did not pass.
	Failures []string
	// Warnings say, one line each, which check blocks failed without
	// failing the run (no -strict-checks, and expect_failures names none).
	Warnings []string
	// Diags are the diagnostics of the run and of its failed asserts.
	Diags hcl.Diagnostics
	// Steps are the instances of the run's steps, for the HTML report.
	Steps []stepRecord
}

// stepRecord is one instance of a step as the run saw it.
type stepRecord struct {
	Instance string
	Method   string
	Status   string // finished, failed, skipped
	Started  time.Time
	Duration time.Duration
	Error    string
}

// findTestFiles lists the test files of dir and of dir/tests, sorted,
// keeping those filters match (all without filters).
func findTestFiles(dir string, filters []string) ([]string, error) {
	var files []string
	for _, d := range []string{dir, filepath.Join(dir, "tests")} {
		entries, err := os.ReadDir(d)
		if err != nil {
			if d != dir && os.IsNotExist(err) {
				continue
			}
			return nil, err
		}
		for _, e := range entries {
			if !e.IsDir() && lang.IsTestFile(e.Name()) && matchFilters(filepath.Join(d, e.Name()), dir, filters) {
				files = append(files, filepath.Join(d, e.Name()))
			}
		}
	}
	slices.Sort(files)
	return files, nil
}

// matchFilters reports whether a test file is selected: by its name, or
// its path relative to the folder tested, as a glob pattern.
func matchFilters(path, dir string, filters []string) bool {
	if len(filters) == 0 {
		return true
	}
	rel, err := filepath.Rel(dir, path)
	if err != nil {
		rel = path
	}
	for _, f := range filters {
		for _, name := range []string{filepath.Base(path), rel, path} {
			if ok, _ := filepath.Match(f, name); ok {
				return true
			}
		}
	}
	return false
}

// loadSuites loads every test file and its workflow, and checks the runs
// against the workflow: nothing runs unless all of them are valid.
func loadSuites(dir string, paths []string) ([]*testSuite, map[string]*hcl.File, hcl.Diagnostics) {
	files := map[string]*hcl.File{}
	var diags hcl.Diagnostics
	var suites []*testSuite
	workflows := map[string]*testSuite{}
	for _, path := range paths {
		// A file in DIR or DIR/tests tests the workflow DIR unless it
		// names another.
		tf, d := lang.LoadTestFile(path, dir)
		for k, f := range tf.Files {
			files[k] = f
		}
		diags = append(diags, d...)
		if len(tf.Runs) == 0 {
			continue
		}
		w, ok := workflows[tf.Workflow]
		if !ok {
			cfg, d := loadTestWorkflow(tf)
			if d.HasErrors() && tf.WorkflowRange.Filename != "" {
				d = append(d, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Workflow of a test file",
					Detail: fmt.Sprintf("%s tests %s, which did not load (see above).", path, tf.Workflow), Subject: tf.WorkflowRange.Ptr()})
			}
			w = &testSuite{cfg: cfg}
			if !d.HasErrors() {
				var dc hcl.Diagnostics
				w.wf, dc = engine.Compile(cfg)
				d = append(d, dc...)
			}
			for k, f := range cfg.Files() {
				files[k] = f
			}
			diags = append(diags, d...)
			workflows[tf.Workflow] = w
		}
		if w.wf == nil {
			continue
		}
		for _, r := range tf.Runs {
			diags = append(diags, w.cfg.CheckTestRun(r)...)
		}
		suites = append(suites, &testSuite{file: tf, cfg: w.cfg, wf: w.wf})
	}
	return suites, files, diags
}

// loadTestWorkflow loads the workflow a test file tests: a workflow
// file or folder, or a .lua script run with a session from the
// environment (the sandbox's, when run).
func loadTestWorkflow(tf *lang.TestFile) (*lang.Config, hcl.Diagnostics) {
	if isScriptPath(tf.Workflow) {
		return lang.LoadScriptRun(lang.ScriptRun{Path: tf.Workflow, Args: tf.Args, EnvSession: true})
	}
	return lang.Load(tf.Workflow)
}

// testOptions are the flags of okru-run test that change how runs run.
type testOptions struct {
	parallelism  int
	strictChecks bool
	sb           sandboxFlags
}

// runSuites runs the suites, up to opts.parallelism files at once, and
// returns their results in order.
func runSuites(ctx context.Context, suites []*testSuite, opts testOptions) []fileResult {
	results := make([]fileResult, len(suites))
	sem := make(chan struct{}, max(1, opts.parallelism))
	var wg sync.WaitGroup
	for i, s := range suites {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = runSuite(ctx, s, opts)
		})
	}
	wg.Wait()
	return results
}

// runSuite runs the runs of one test file, in order, against a sandbox
// of its own.
func runSuite(ctx context.Context, s *testSuite, opts testOptions) (fr fileResult) {
	fr = fileResult{Path: s.file.Path, Status: testPass, Started: time.Now(), files: s.cfg.Files()}
	defer func() { fr.Duration = time.Since(fr.Started) }()
	srv, connect, secrets, err := startSandbox(opts.sb)
	if err != nil {
		fr.Status = testError
		fr.Runs = append(fr.Runs, runResult{Name: "(sandbox)", Status: testError, Failures: []string{err.Error()}})
		return fr
	}
	defer srv.Close()
	fr.secrets = secrets
	for _, r := range s.file.Runs {
		if ctx.Err() != nil {
			break
		}
		rr, sec := runTest(ctx, s, r, connect, opts)
		fr.secrets = append(fr.secrets, sec...)
		fr.Runs = append(fr.Runs, rr)
		if rr.Status != testPass && fr.Status == testPass {
			fr.Status = rr.Status
		}
	}
	return fr
}

// runTest runs one run block: the workflow with the run's variables, then
// its expectations and asserts.
func runTest(ctx context.Context, s *testSuite, r *lang.TestRun, connect engine.Connector, opts testOptions) (rr runResult, secrets []string) {
	rr = runResult{Name: r.Name, Status: testPass, Started: time.Now()}
	defer func() { rr.Duration = time.Since(rr.Started) }()
	getenv := func(string) string { return "" }
	scope := lang.Scope{Dir: s.cfg.Dir, Getenv: getenv, Lua: s.wf.LuaFunctions(), Context: ctx}
	vals, diags := s.cfg.ResolveVariables(lang.Inputs{Values: r.Variables, ValueRanges: r.VariableRanges}, scope)
	if diags.HasErrors() {
		rr.Status, rr.Diags = testError, diags
		rr.Failures = []string{"the run's variables are invalid: " + firstError(diags)}
		return rr, nil
	}
	in := engine.Inputs{Variables: vals, Getenv: getenv}
	secrets = s.wf.Secrets(ctx, in)
	rec := &stepRecorder{}
	res, diags := s.wf.Run(ctx, in, engine.Options{Connect: connect, StrictChecks: opts.strictChecks, KeepResults: true, Observer: rec})
	rr.Steps = rec.steps
	if res.Status == engine.StatusInvalid || res.Status == engine.StatusInterrupted {
		rr.Status, rr.Diags = testError, diags
		rr.Failures = []string{"the workflow did not run: " + firstError(diags)}
		return rr, secrets
	}
	// A failed check is a failure of the run with -strict-checks, else a
	// warning; either way expect_failures may name it.
	failed := rec.failedSteps()
	var warned []lang.Address
	expected := func(a lang.Address) bool {
		return slices.ContainsFunc(r.ExpectFailures, func(ref lang.Reference) bool { return ref.Addr.Covers(a) })
	}
	for _, c := range res.Checks {
		if c.Passed() || c.Skipped {
			continue
		}
		if opts.strictChecks {
			failed = append(failed, c.Addr)
			continue
		}
		warned = append(warned, c.Addr)
		if !expected(c.Addr) {
			for _, msg := range c.Failed {
				rr.Warnings = append(rr.Warnings, c.Addr.String()+": "+msg)
			}
		}
	}
	covered := func(ref lang.Address, in []lang.Address) bool {
		return slices.ContainsFunc(in, ref.Covers)
	}
	for _, ref := range r.ExpectFailures {
		if !covered(ref.Addr, failed) && !covered(ref.Addr, warned) {
			rr.Failures = append(rr.Failures, fmt.Sprintf("%s was expected to fail, but it did not", ref.Addr))
		}
	}
	var unexpected []string
	for _, a := range failed {
		if !expected(a) {
			unexpected = append(unexpected, a.String())
		}
	}
	switch {
	case len(unexpected) > 0:
		rr.Failures = append(rr.Failures, "failed: "+strings.Join(unexpected, ", "))
		rr.Diags = append(rr.Diags, diags...)
	case res.Status != engine.StatusOK && len(failed) == 0:
		rr.Failures = append(rr.Failures, "the run failed: "+firstError(diags))
		rr.Diags = append(rr.Diags, diags...)
	default:
		rr.Diags = append(rr.Diags, warningsOnly(diags)...)
	}
	ctxEval := assertContext(ctx, s.cfg, s.wf.LuaFunctions(), vals, res)
	for _, a := range r.Asserts {
		ok, d := engine.CheckAssert(a, ctxEval, fmt.Sprintf("run %q", r.Name))
		if !ok {
			rr.Failures = append(rr.Failures, "assert: "+assertMessage(d))
			rr.Diags = append(rr.Diags, d...)
		}
	}
	if len(rr.Failures) > 0 {
		rr.Status = testFail
	}
	return rr, secrets
}

// assertContext is what a run's asserts see: var, output, call and
// script of the run.
func assertContext(ctx context.Context, cfg *lang.Config, luaFns lang.LuaFunctions, vals map[string]cty.Value, res *engine.Result) *hcl.EvalContext {
	outs := map[string]cty.Value{}
	for _, o := range res.Outputs {
		outs[o.Name] = o.Value
	}
	calls, scripts := map[string]cty.Value{}, map[string]cty.Value{}
	for addr, v := range res.Steps {
		switch {
		case addr.Module != "": // a module's steps: its outputs are what a test reads
		case addr.Kind == lang.KindScript:
			scripts[addr.Name] = v
		case addr.Kind == lang.KindCall:
			calls[addr.Name] = v
		}
	}
	return &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(vals), "output": cty.ObjectVal(outs),
			"call": cty.ObjectVal(calls), "script": cty.ObjectVal(scripts)},
		Functions: lang.Scope{Dir: cfg.Dir, Lua: luaFns, Context: ctx}.Functions(),
	}
}

// assertMessage is the one-line message of a failed assert's diagnostics.
func assertMessage(d hcl.Diagnostics) string {
	for _, x := range d {
		if x.Severity == hcl.DiagError {
			msg, _, _ := strings.Cut(x.Detail, "\n")
			if x.Summary != "Assert failed" {
				return x.Summary + ": " + msg
			}
			_, msg, _ = strings.Cut(msg, ": ")
			return msg
		}
	}
	return ""
}

func firstError(d hcl.Diagnostics) string {
	for _, x := range d {
		if x.Severity == hcl.DiagError {
			if x.Detail != "" {
				return x.Summary + ": " + x.Detail
			}
			return x.Summary
		}
	}
	return "unknown error"
}

func warningsOnly(d hcl.Diagnostics) hcl.Diagnostics {
	var out hcl.Diagnostics
	for _, x := range d {
		if x.Severity == hcl.DiagWarning {
			out = append(out, x)
		}
	}
	return out
}

// stepRecorder keeps the instances of a run's steps as its events say.
// The engine calls it from one goroutine at a time.
type stepRecorder struct {
	steps   []stepRecord
	started map[string]time.Time
	failed  []lang.Address
}

func (s *stepRecorder) Observe(e engine.Event) {
	if e.FromScript {
		return
	}
	name := engine.InstanceName(e.Step, e.Key)
	switch e.Type {
	case engine.EventStarted:
		if s.started == nil {
			s.started = map[string]time.Time{}
		}
		s.started[name] = time.Now()
	case engine.EventFinished, engine.EventFailed, engine.EventSkipped:
		rec := stepRecord{Instance: name, Method: e.Method, Status: string(e.Type), Duration: e.Elapsed}
		rec.Started = s.started[name]
		delete(s.started, name)
		if rec.Started.IsZero() {
			rec.Started = time.Now().Add(-e.Elapsed)
		}
		if e.Err != nil {
			rec.Error = e.Err.Error()
		} else if e.Type == engine.EventSkipped {
			rec.Error = e.Reason
		}
		s.steps = append(s.steps, rec)
		if e.Type == engine.EventFailed && !slices.Contains(s.failed, e.Step) {
			s.failed = append(s.failed, e.Step)
		}
	}
}

func (s *stepRecorder) failedSteps() []lang.Address { return slices.Clone(s.failed) }
