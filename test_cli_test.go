package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTestCommand runs okru-run test on folders of test files that pass,
// fail and are invalid, and checks the output against golden files.
func TestTestCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"test_pass", []string{"test", "testdata/tests/pass"}, exitOK},
		{"test_fail", []string{"test", "testdata/tests/fail"}, exitFailed},
		{"test_bad_input", []string{"test", "testdata/tests/bad"}, exitInvalid},
		{"test_assert_types", []string{"test", "testdata/tests/types"}, exitInvalid},
		{"test_filter", []string{"test", "-filter", "tests/vars.okrutest.hcl", "testdata/tests/pass"}, exitOK},
		{"test_filter_none", []string{"test", "-filter", "nosuch*", "testdata/tests/pass"}, exitInvalid},
		{"test_no_files", []string{"test", "testdata/cli"}, exitInvalid},
		{"test_strict_checks", []string{"test", "-strict-checks", "-filter", "vars*", "testdata/tests/pass"}, exitFailed},
		{"test_modules", []string{"test", "-strict-checks", "testdata/tests/modules"}, exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, nil, "", tt.args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d:\n%s%s", r.code, tt.code, r.stdout, r.stderr)
			}
			checkGolden(t, tt.name, r)
		})
	}
}

// TestExamplesTests runs the tests of the examples: every example has a
// test file with assertions in examples/tests, and they all pass.
func TestExamplesTests(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, "", "test", "examples")
	if r.code != exitOK {
		t.Fatalf("okru-run test examples: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	examples, err := findTestFiles("examples", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"whoami", "group-members", "group-report", "mutual-friends", "online-friends",
		"post-and-read", "post-and-verify", "friends-of-friends", "greeting", "post-with-tags", "post-with-photos"} {
		file := "examples/tests/" + name + ".okrutest.hcl"
		if !strings.Contains(strings.Join(examples, " "), file) || !strings.Contains(r.stdout, file+": pass") {
			t.Errorf("example %s: no passing %s:\n%s", name, file, r.stdout)
		}
	}
}

// TestTestAbsoluteWorkflow: a test file may name its workflow by an
// absolute path, which is not made relative to the test file's folder.
func TestTestAbsoluteWorkflow(t *testing.T) {
	t.Parallel()
	wf, err := filepath.Abs("testdata/tests/pass/workflow.hcl")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := fmt.Sprintf("workflow = %q\n\nrun \"friends\" {\n  assert {\n    condition     = output.friends > 0\n    error_message = \"no friends\"\n  }\n}\n", filepath.ToSlash(wf))
	if err := os.WriteFile(filepath.Join(dir, "abs.okrutest.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "", "test", dir)
	if r.code != exitOK || !strings.Contains(r.stdout, `run "friends": pass`) {
		t.Errorf("exit %d, want 0 and a passing run:\n%s%s", r.code, r.stdout, r.stderr)
	}
}
