package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/engine"
	"github.com/okru-run/okru-run/engine/render"
)

// The report files of run and test (-report-junit, -report-json): built
// from what the command saw, redacted, and written once it is over.

// reportFlags name the report files to write; "" writes none.
type reportFlags struct {
	junit, json string
	// html is a folder: the page is its index.html.
	html string
}

func (f *reportFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.junit, "report-junit", "", "write a JUnit XML report to `file` (GitHub, GitLab, Jenkins)")
	fs.StringVar(&f.json, "report-json", "", "write a JSON report to `file`")
	fs.StringVar(&f.html, "report-html", "", "write an HTML report, one self-contained page, to `dir`/index.html (dir is created)")
}

// check refuses, before anything runs, a report that could not be
// written once the run is over: one whose folder does not exist or is
// not a folder (for -report-html, the folder of its folder, which is
// created), a -report-junit or -report-json file that is a folder, and a
// -report-html folder that is a file.
func (f *reportFlags) check(env *cliEnv, cmd string) bool {
	ok := true
	refuse := func(flag, path, why string) {
		fmt.Fprintf(env.stderr, "okru-run %s: %s %s: %s (nothing was run)\n", cmd, flag, path, why)
		ok = false
	}
	for _, p := range []struct {
		flag, path string
		file       string // an example of the file's name; "" for a folder
	}{{"-report-junit", f.junit, "report.xml"}, {"-report-json", f.json, "report.json"}, {"-report-html", f.html, ""}} {
		if p.path == "" {
			continue
		}
		dir := filepath.Dir(filepath.Clean(p.path))
		if st, err := os.Stat(dir); err != nil {
			refuse(p.flag, p.path, fmt.Sprintf("the folder %s does not exist; create it first", dir))
			continue
		} else if !st.IsDir() {
			refuse(p.flag, p.path, dir+" is not a folder")
			continue
		}
		st, err := os.Stat(p.path)
		switch {
		case p.file != "" && strings.HasSuffix(p.path, string(filepath.Separator)):
			// Names a folder, existing or not: the file could not be created.
			refuse(p.flag, p.path, "names a folder; give the report's file, such as "+filepath.Join(p.path, p.file))
		case err != nil: // to be created
		case p.file != "" && st.IsDir():
			refuse(p.flag, p.path, "is a folder; give the report's file, such as "+filepath.Join(p.path, p.file))
		case p.file == "" && !st.IsDir():
			refuse(p.flag, p.path, "is a file; give a folder, where the report is written as index.html")
		}
	}
	return ok
}

func (f *reportFlags) any() bool { return f.junit != "" || f.json != "" || f.html != "" }

// write writes the reports asked for, redacted of secrets.
func (f *reportFlags) write(r *render.Report, secrets []string) error {
	r.Redact(secrets)
	html := ""
	if f.html != "" {
		if err := os.MkdirAll(f.html, 0o755); err != nil {
			return fmt.Errorf("write the report: %w", err)
		}
		html = filepath.Join(f.html, "index.html")
	}
	for _, p := range []struct {
		path  string
		write func(io.Writer, *render.Report) error
	}{{f.junit, render.WriteJUnit}, {f.json, render.WriteReportJSON}, {html, render.WriteHTML}} {
		if p.path == "" {
			continue
		}
		if err := writeReport(p.path, r, secrets, p.write); err != nil {
			return err
		}
	}
	return nil
}

// writeReport writes one report file through a redactor, the last line
// of defence, as everything the CLI prints.
func writeReport(path string, r *render.Report, secrets []string, write func(io.Writer, *render.Report) error) error {
	file, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	bw := bufio.NewWriter(file)
	red := newRedactor(bw, secrets)
	err = write(red, r)
	if err == nil {
		red.Flush()
		err = bw.Flush()
	}
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write the report %s: %w", path, err)
	}
	return nil
}

// testReport is the report of okru-run test: a suite per test file, a
// case per run.
func testReport(dir string, started time.Time, results []fileResult, files map[string]*hcl.File) *render.Report {
	r := &render.Report{Name: "okru-run test " + dir, Started: started, Duration: time.Since(started)}
	for _, fr := range results {
		s := render.ReportSuite{Name: fr.Path, File: fr.Path, Started: fr.Started, Duration: fr.Duration}
		for _, rr := range fr.Runs {
			c := render.ReportCase{Name: rr.Name, Classname: strings.TrimSuffix(filepath.Base(fr.Path), ".okrutest.hcl"),
				Started: rr.Started, Duration: rr.Duration, Status: render.CasePass, Failures: rr.Failures,
				Warnings: rr.Warnings, Detail: diagnosticsText(files, rr.Diags), Steps: reportSteps(rr.Steps)}
			switch rr.Status {
			case testPass:
				if len(rr.Warnings) > 0 {
					c.Status = render.CaseWarn
				}
			case testFail:
				c.Status = render.CaseFail
			case testError:
				c.Status = render.CaseError
			}
			s.Cases = append(s.Cases, c)
		}
		r.Suites = append(r.Suites, s)
	}
	return r
}

// runReport is the report of a run: one suite, a case per step instance
// and per check block.
func runReport(path string, started time.Time, steps []stepRecord, res *engine.Result, files map[string]*hcl.File, diags hcl.Diagnostics) *render.Report {
	d := time.Since(started)
	r := &render.Report{Name: "okru-run run " + path, Started: started, Duration: d}
	s := render.ReportSuite{Name: path, File: path, Started: started, Duration: d}
	for _, st := range steps {
		c := render.ReportCase{Name: st.Instance, Classname: path, Started: st.Started, Duration: st.Duration,
			Status: render.CasePass, Steps: reportSteps([]stepRecord{st})}
		switch st.Status {
		case string(engine.EventFailed):
			c.Status, c.Failures = render.CaseFail, []string{st.Error}
			c.Detail = diagnosticsText(files, instanceDiags(diags, st.Instance))
		case string(engine.EventSkipped):
			c.Status, c.Failures = render.CaseSkipped, []string{st.Error}
		}
		s.Cases = append(s.Cases, c)
	}
	if res != nil {
		for _, ch := range res.Checks {
			s.Cases = append(s.Cases, checkCase(ch, path, started, files))
		}
	}
	r.Suites = append(r.Suites, s)
	return r
}

// checkCase is the case of a check block: failed when it failed the run
// (-strict-checks made its diagnostics errors), else passed with warnings,
// as the exit code says; either way with its diagnostics.
func checkCase(ch engine.CheckResult, path string, started time.Time, files map[string]*hcl.File) render.ReportCase {
	c := render.ReportCase{Name: ch.Addr.String(), Classname: path, Started: started, Status: render.CasePass}
	switch {
	case ch.Skipped:
		c.Status, c.Failures = render.CaseSkipped, []string{"not evaluated: a step it refers to did not finish"}
	case len(ch.Failed) > 0 && ch.Diags.HasErrors():
		c.Status, c.Failures = render.CaseFail, ch.Failed
	case len(ch.Failed) > 0:
		c.Status, c.Warnings = render.CaseWarn, ch.Failed
	}
	if len(ch.Failed) > 0 {
		c.Detail = diagnosticsText(files, ch.Diags)
	}
	return c
}

// instanceDiags are the diagnostics about one failed instance.
func instanceDiags(diags hcl.Diagnostics, instance string) hcl.Diagnostics {
	var out hcl.Diagnostics
	for _, d := range diags {
		if fi, ok := d.Extra.(engine.FailedInstance); ok && fi.Instance == instance {
			out = append(out, d)
		}
	}
	return out
}

func reportSteps(steps []stepRecord) []render.ReportStep {
	out := make([]render.ReportStep, len(steps))
	for i, s := range steps {
		out[i] = render.ReportStep{Instance: s.Instance, Method: s.Method, Status: s.Status, Started: s.Started, Duration: s.Duration, Error: s.Error}
	}
	return out
}

// diagnosticsText renders diagnostics as the terminal shows them, without
// colour.
func diagnosticsText(files map[string]*hcl.File, diags hcl.Diagnostics) string {
	if len(diags) == 0 {
		return ""
	}
	var b bytes.Buffer
	render.Diagnostics(&b, files, diags, false, 0)
	return strings.TrimSpace(b.String())
}
