package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/okru-run/okru-run/okru/okrutest"
)

// TestReportJUnitSchema writes JUnit reports of a run and of okru-run test
// with failures, parses them, and checks them against docs/junit.xsd with
// xmllint (Debian's libxml2-utils, installed by .ci/run) when present.
func TestReportJUnitSchema(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name      string
		args      []string
		code      int
		failures  int
		wantInXML []string
	}{
		{"run", []string{"run", "-sandbox", "-var", "min_friends=100000", "testdata/cli/assertions.hcl"}, exitFailed, 1,
			[]string{`name="call.friends"`, `message="postcondition failed: too few friends: 48"`, `<skipped message="not evaluated`}},
		{"test", []string{"test", "testdata/tests/fail"}, exitFailed, 3,
			[]string{`<testcase name="too_many_wanted"`, `message="assert: wants more than 1000 friends, got 48"`, `message="call.friends was expected to fail, but it did not"`}},
		{"test pass", []string{"test", "testdata/tests/pass"}, exitOK, 0, []string{`<testcase name="check_fails"`,
			`<system-out>warning: check.many_friends: the user has no more than 1000 friends`}},
		// A check that fails is a warning, and the command exits 0: a
		// passing testcase, with the warning and its diagnostics in
		// system-out; with -strict-checks, a failure with them.
		{"run check warns", []string{"run", "-sandbox", "testdata/cli/assertions.hcl"}, exitOK, 0,
			[]string{`<system-out>warning: the user has no more than 1000 friends&#xA;&#xA;Warning: Assert failed`}},
		{"run strict checks", []string{"run", "-sandbox", "-strict-checks", "testdata/cli/assertions.hcl"}, exitFailed, 1,
			[]string{`<failure message="the user has no more than 1000 friends" type="assertion">Error: Assert failed`}},
	}
	xmllint, lintErr := exec.LookPath("xmllint")
	if lintErr != nil {
		t.Log("xmllint not found (apt-get install libxml2-utils): the reports are parsed, not checked against docs/junit.xsd")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".xml")
			args := append([]string{tt.args[0], "-report-junit", file}, tt.args[1:]...)
			if r := runCLI(t, nil, "", args...); r.code != tt.code {
				t.Fatalf("exit %d, want %d:\n%s%s", r.code, tt.code, r.stdout, r.stderr)
			}
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Failures int `xml:"failures,attr"`
				Suites   []struct {
					Cases []struct {
						Name string `xml:"name,attr"`
					} `xml:"testcase"`
				} `xml:"testsuite"`
			}
			if err := xml.Unmarshal(b, &doc); err != nil {
				t.Fatalf("not XML: %v\n%s", err, b)
			}
			if doc.Failures != tt.failures || len(doc.Suites) == 0 || len(doc.Suites[0].Cases) == 0 {
				t.Errorf("failures = %d, want %d; suites %+v", doc.Failures, tt.failures, doc.Suites)
			}
			for _, want := range tt.wantInXML {
				if !strings.Contains(string(b), want) {
					t.Errorf("the report lacks %s:\n%s", want, b)
				}
			}
			if lintErr == nil {
				if out, err := exec.Command(xmllint, "--noout", "--schema", "docs/junit.xsd", file).CombinedOutput(); err != nil {
					t.Errorf("xmllint: %v\n%s", err, out)
				}
			}
		})
	}
	if lintErr == nil {
		// The schema is not a rubber stamp: a report without the counts
		// JUnit readers need is refused.
		t.Run("schema refuses", func(t *testing.T) {
			t.Parallel()
			bad := filepath.Join(dir, "bad.xml")
			os.WriteFile(bad, []byte(`<testsuites tests="1"><testsuite name="x"><testcase name="y"/></testsuite></testsuites>`), 0o644)
			if out, err := exec.Command(xmllint, "--noout", "--schema", "docs/junit.xsd", bad).CombinedOutput(); err == nil {
				t.Errorf("xmllint accepted an invalid report:\n%s", out)
			}
		})
	}
}

// TestReportJSONChecks checks the cases of a check block in the JSON
// report of a run: a warning (status warn, counted in warnings, not in
// failures), or with -strict-checks a failure, with its diagnostics.
func TestReportJSONChecks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		strict           bool
		code             int
		status           string
		failures, warned int
	}{
		{"warning", false, exitOK, "warn", 0, 1},
		{"strict", true, exitFailed, "fail", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(t.TempDir(), "report.json")
			args := []string{"run", "-sandbox", "-report-json", file, "testdata/cli/assertions.hcl"}
			if tt.strict {
				args = append(args[:2], append([]string{"-strict-checks"}, args[2:]...)...)
			}
			if r := runCLI(t, nil, "", args...); r.code != tt.code {
				t.Fatalf("exit %d, want %d:\n%s%s", r.code, tt.code, r.stdout, r.stderr)
			}
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var rep struct {
				Failures, Warnings int
				Suites             []struct {
					Cases []struct {
						Name, Status, Detail string
						Failures, Warnings   []string
					}
				}
			}
			if err := json.Unmarshal(b, &rep); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, b)
			}
			if rep.Failures != tt.failures || rep.Warnings != tt.warned || len(rep.Suites) != 1 {
				t.Fatalf("failures = %d, warnings = %d, want %d and %d:\n%s", rep.Failures, rep.Warnings, tt.failures, tt.warned, b)
			}
			cases := rep.Suites[0].Cases
			c := cases[len(cases)-1]
			msgs := append(c.Failures, c.Warnings...)
			if c.Name != "check.many_friends" || c.Status != tt.status || len(msgs) != 1 || msgs[0] != "the user has no more than 1000 friends" ||
				!strings.Contains(c.Detail, "call.friends.result = (tuple of 48 elements)") {
				t.Errorf("check case = %+v, want status %s with its message and diagnostics", c, tt.status)
			}
		})
	}
}

// TestReportJSON checks the JSON report of okru-run test: counts, cases
// with their failures and the step instances of each run.
func TestReportJSON(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "report.json")
	if r := runCLI(t, nil, "", "test", "-report-json", file, "testdata/tests/fail"); r.code != exitFailed {
		t.Fatalf("exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Tests, Failures int
		Suites          []struct {
			Cases []struct {
				Name, Status string
				Failures     []string
				Steps        []struct{ Instance, Status string }
			}
		}
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	if rep.Tests != 3 || rep.Failures != 3 || len(rep.Suites) != 1 || len(rep.Suites[0].Cases) != 3 {
		t.Fatalf("report = %+v", rep)
	}
	c := rep.Suites[0].Cases[1]
	if c.Name != "unexpected_failure" || c.Status != "fail" || len(c.Steps) == 0 || !strings.Contains(strings.Join(c.Failures, " "), "failed: call.friends") {
		t.Errorf("case = %+v", c)
	}
}

// TestReportsHoldNoSecrets writes every report of a run that uses real
// credentials (a sandbox's, from the environment) and of a test with a
// sensitive variable (its output as text and as -json), both failing
// with messages that may echo them, and checks that no secret reaches a
// report or the output.
func TestReportsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	srv := okrutest.NewServer(okrutest.Config{})
	t.Cleanup(srv.Close)
	env, secrets := credentialsEnv(srv, "pw-SECRET-9f8e7d6c5b4a")
	for _, args := range [][]string{
		{"run", "-no-state", "-continue-on-error", "testdata/cli/secrets.hcl"},
		{"test", "testdata/tests/secrets"},
		{"test", "-json", "testdata/tests/secrets"},
	} {
		t.Run(args[0], func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			files := []string{filepath.Join(dir, "r.xml"), filepath.Join(dir, "r.json"), filepath.Join(dir, "html", "index.html")}
			full := append([]string{args[0], "-report-junit", files[0], "-report-json", files[1], "-report-html", filepath.Join(dir, "html")}, args[1:]...)
			r := runCLI(t, env, "", full...)
			if r.code != exitFailed {
				t.Fatalf("exit %d, want 1 (a failure):\n%s%s", r.code, r.stdout, r.stderr)
			}
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(b), "fail") {
					t.Errorf("%s reports no failure:\n%s", f, b)
				}
				r.stdout += string(b)
			}
			all := map[string]string{"test variable": "pw-SECRET-test-5a4b3c2d1e"}
			for k, v := range secrets {
				all[k] = v
			}
			checkNoSecrets(t, r, all)
		})
	}
}

// TestReportPathRefused: a report that could not be written when the
// command ends is refused before anything runs (exit 2): in a folder that
// does not exist, a file report that is a folder, an HTML folder that is
// a file.
func TestReportPathRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing folder", []string{"run", "-sandbox", "-report-junit", "nosuch/dir/r.xml", "testdata/cli/assertions.hcl"},
			"-report-junit nosuch/dir/r.xml: the folder nosuch/dir does not exist; create it first (nothing was run)"},
		{"missing folder, test", []string{"test", "-report-json", "nosuch/dir/r.json", "testdata/tests/pass"},
			"the folder nosuch/dir does not exist"},
		{"junit is a folder", []string{"run", "-sandbox", "-report-junit", dir, "testdata/cli/assertions.hcl"},
			"-report-junit " + dir + ": is a folder; give the report's file, such as " + filepath.Join(dir, "report.xml") + " (nothing was run)"},
		{"json is a folder", []string{"test", "-report-json", dir, "testdata/tests/pass"},
			"-report-json " + dir + ": is a folder; give the report's file, such as " + filepath.Join(dir, "report.json")},
		{"json names a folder", []string{"run", "-sandbox", "-report-json", "nosuch/", "testdata/cli/assertions.hcl"},
			"-report-json nosuch/: names a folder; give the report's file, such as " + filepath.Join("nosuch", "report.json") + " (nothing was run)"},
		{"html is a file", []string{"run", "-sandbox", "-report-html", file, "testdata/cli/assertions.hcl"},
			"-report-html " + file + ": is a file; give a folder, where the report is written as index.html (nothing was run)"},
		{"html in a file", []string{"test", "-report-html", filepath.Join(file, "html"), "testdata/tests/pass"},
			file + " is not a folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, nil, "", tt.args...)
			if r.code != exitInvalid || !strings.Contains(r.stderr, tt.want) || r.stdout != "" || strings.Contains(r.stderr, "call.me") {
				t.Errorf("exit %d, want 2, nothing run and %q:\n%s%s", r.code, tt.want, r.stdout, r.stderr)
			}
		})
	}
}
