package render

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/okru-run/okru-run/okru"
)

// Reports of a run or of okru-run test, for CI: JUnit XML (read by
// GitHub, GitLab and Jenkins; docs/junit.xsd holds what they read), JSON,
// and an HTML page. They share one model: suites of cases, each case with
// its failures and the instances of the steps it ran.

// Report is what a report file shows.
type Report struct {
	Name     string // okru-run test DIR, or the workflow run
	Started  time.Time
	Duration time.Duration
	Suites   []ReportSuite
}

// ReportSuite is a test file, or the one workflow of a run.
type ReportSuite struct {
	Name     string
	File     string
	Started  time.Time
	Duration time.Duration
	Cases    []ReportCase
}

// Case statuses.
const (
	CasePass = "pass"
	// CaseWarn passed with warnings: a check block that failed without
	// strict checks, which does not fail the command, so a CI system must
	// not count it failed.
	CaseWarn    = "warn"
	CaseFail    = "fail"
	CaseError   = "error"
	CaseSkipped = "skipped"
)

// ReportCase is a run of a test file, or a step instance or check of a
// run.
type ReportCase struct {
	Name      string
	Classname string
	Started   time.Time
	Duration  time.Duration
	Status    string   // CasePass, CaseWarn, CaseFail, CaseError or CaseSkipped
	Failures  []string // one line each: why the case did not pass
	Warnings  []string // one line each: the checks that warned
	Detail    string   // the diagnostics as text
	Steps     []ReportStep
}

// ReportStep is one instance of a step, as a run saw it.
type ReportStep struct {
	Instance string
	Method   string
	Status   string // finished, failed or skipped
	Started  time.Time
	Duration time.Duration
	Error    string
}

// Redact hides secrets in every text of the report. The writers escape
// text (XML, JSON, HTML), after which a secret may no longer be found as
// written: so the report is redacted before it is written, and the file
// passes through the redactor as well.
func (r *Report) Redact(secrets []string) {
	red := func(s *string) { *s = okru.Redact(*s, secrets...) }
	red(&r.Name)
	for i := range r.Suites {
		s := &r.Suites[i]
		red(&s.Name)
		red(&s.File)
		for j := range s.Cases {
			c := &s.Cases[j]
			red(&c.Name)
			red(&c.Classname)
			red(&c.Detail)
			for k := range c.Failures {
				red(&c.Failures[k])
			}
			for k := range c.Warnings {
				red(&c.Warnings[k])
			}
			for k := range c.Steps {
				red(&c.Steps[k].Instance)
				red(&c.Steps[k].Error)
			}
		}
	}
}

// Counts are the cases of a report or suite by status. A case that
// warned passed: it is one of Tests, and of Warnings.
type Counts struct{ Tests, Failures, Errors, Skipped, Warnings int }

func (s ReportSuite) counts() Counts {
	var c Counts
	for _, tc := range s.Cases {
		c.Tests++
		switch tc.Status {
		case CaseWarn:
			c.Warnings++
		case CaseFail:
			c.Failures++
		case CaseError:
			c.Errors++
		case CaseSkipped:
			c.Skipped++
		}
	}
	return c
}

// Counts totals the cases of every suite.
func (r *Report) Counts() Counts {
	var c Counts
	for _, s := range r.Suites {
		sc := s.counts()
		c.Tests += sc.Tests
		c.Failures += sc.Failures
		c.Errors += sc.Errors
		c.Skipped += sc.Skipped
		c.Warnings += sc.Warnings
	}
	return c
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	File      string      `xml:"file,attr,omitempty"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string          `xml:"name,attr"`
	Classname string          `xml:"classname,attr"`
	Time      string          `xml:"time,attr"`
	File      string          `xml:"file,attr,omitempty"`
	Skipped   *junitMessage   `xml:"skipped"`
	Failures  []junitProblem  `xml:"failure"`
	Errors    []junitProblem  `xml:"error"`
	SystemOut *junitCharacter `xml:"system-out"`
}

type junitMessage struct {
	Message string `xml:"message,attr,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitCharacter struct {
	Text string `xml:",chardata"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes r as JUnit XML: a testsuite per suite, a testcase per
// case, a failure (or error) element per failure with its message, the
// diagnostics as the element's text. A case that warned is a passing
// testcase with its warnings and their diagnostics in system-out, which
// GitLab and Jenkins show with the test and none counts as a failure.
func WriteJUnit(w io.Writer, r *Report) error {
	c := r.Counts()
	out := junitSuites{Name: r.Name, Tests: c.Tests, Failures: c.Failures, Errors: c.Errors, Skipped: c.Skipped, Time: seconds(r.Duration)}
	for _, s := range r.Suites {
		sc := s.counts()
		js := junitSuite{Name: s.Name, Tests: sc.Tests, Failures: sc.Failures, Errors: sc.Errors, Skipped: sc.Skipped,
			Time: seconds(s.Duration), Timestamp: s.Started.UTC().Format("2006-01-02T15:04:05"), File: s.File}
		for _, tc := range s.Cases {
			jc := junitCase{Name: tc.Name, Classname: tc.Classname, Time: seconds(tc.Duration), File: s.File}
			switch tc.Status {
			case CaseSkipped:
				msg := ""
				if len(tc.Failures) > 0 {
					msg = tc.Failures[0]
				}
				jc.Skipped = &junitMessage{Message: msg}
			case CaseFail, CaseError:
				kind := "assertion"
				if tc.Status == CaseError {
					kind = "error"
				}
				failures := tc.Failures
				if len(failures) == 0 {
					failures = []string{tc.Status}
				}
				for i, f := range failures {
					p := junitProblem{Message: f, Type: kind}
					if i == 0 {
						p.Text = tc.Detail
					}
					if tc.Status == CaseError {
						jc.Errors = append(jc.Errors, p)
					} else {
						jc.Failures = append(jc.Failures, p)
					}
				}
			}
			if len(tc.Warnings) > 0 {
				jc.SystemOut = &junitCharacter{Text: warningsText(tc)}
			}
			js.Cases = append(js.Cases, jc)
		}
		out.Suites = append(out.Suites, js)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// warningsText is the system-out of a case that warned: a line per
// warning, then the diagnostics, unless a failure element holds them.
func warningsText(tc ReportCase) string {
	var b strings.Builder
	for _, w := range tc.Warnings {
		b.WriteString("warning: " + w + "\n")
	}
	if tc.Detail != "" && (tc.Status == CaseWarn || tc.Status == CasePass) {
		b.WriteString("\n" + tc.Detail + "\n")
	}
	return b.String()
}

type jsonReport struct {
	Name       string      `json:"name"`
	Started    time.Time   `json:"started"`
	DurationMS int64       `json:"duration_ms"`
	Tests      int         `json:"tests"`
	Failures   int         `json:"failures"`
	Errors     int         `json:"errors"`
	Skipped    int         `json:"skipped"`
	Warnings   int         `json:"warnings"`
	Suites     []jsonSuite `json:"suites"`
}

type jsonSuite struct {
	Name       string     `json:"name"`
	File       string     `json:"file,omitempty"`
	Started    time.Time  `json:"started"`
	DurationMS int64      `json:"duration_ms"`
	Cases      []jsonCase `json:"cases"`
}

type jsonCase struct {
	Name       string     `json:"name"`
	Classname  string     `json:"classname"`
	Status     string     `json:"status"`
	Started    time.Time  `json:"started"`
	DurationMS int64      `json:"duration_ms"`
	Failures   []string   `json:"failures,omitempty"`
	Warnings   []string   `json:"warnings,omitempty"`
	Detail     string     `json:"detail,omitempty"`
	Steps      []jsonStep `json:"steps,omitempty"`
}

type jsonStep struct {
	Instance   string    `json:"instance"`
	Method     string    `json:"method"`
	Status     string    `json:"status"`
	Started    time.Time `json:"started"`
	DurationMS int64     `json:"duration_ms"`
	Error      string    `json:"error,omitempty"`
}

// WriteReportJSON writes r as one indented JSON object.
func WriteReportJSON(w io.Writer, r *Report) error {
	c := r.Counts()
	out := jsonReport{Name: r.Name, Started: r.Started.UTC(), DurationMS: r.Duration.Milliseconds(),
		Tests: c.Tests, Failures: c.Failures, Errors: c.Errors, Skipped: c.Skipped, Warnings: c.Warnings, Suites: []jsonSuite{}}
	for _, s := range r.Suites {
		js := jsonSuite{Name: s.Name, File: s.File, Started: s.Started.UTC(), DurationMS: s.Duration.Milliseconds(), Cases: []jsonCase{}}
		for _, tc := range s.Cases {
			jc := jsonCase{Name: tc.Name, Classname: tc.Classname, Status: tc.Status, Started: tc.Started.UTC(),
				DurationMS: tc.Duration.Milliseconds(), Failures: tc.Failures, Warnings: tc.Warnings, Detail: tc.Detail}
			for _, st := range tc.Steps {
				jc.Steps = append(jc.Steps, jsonStep{Instance: st.Instance, Method: st.Method, Status: st.Status,
					Started: st.Started.UTC(), DurationMS: st.Duration.Milliseconds(), Error: st.Error})
			}
			js.Cases = append(js.Cases, jc)
		}
		out.Suites = append(out.Suites, js)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
