package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/okru-run/okru-run/lang"
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
		{"test_json_fail", []string{"test", "-json", "testdata/tests/fail"}, exitFailed},
		{"test_json_bad_input", []string{"test", "-json", "-filter", "refs*", "testdata/tests/bad"}, exitInvalid},
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

// TestExamplesTests runs the tests of the examples: every example (a .hcl
// or .lua file of examples/, or a folder of .hcl files) has a test file
// with assertions in examples/tests, and they all pass.
func TestExamplesTests(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, "", "test", "examples")
	if r.code != exitOK {
		t.Fatalf("okru-run test examples: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	names := exampleNames(t)
	if len(names) < 13 {
		t.Fatalf("found %d examples, want at least 13: %v", len(names), names)
	}
	for _, name := range names {
		file := "examples/tests/" + name + ".okrutest.hcl"
		src, err := os.ReadFile(file)
		if err != nil || !strings.Contains(string(src), "assert {") {
			t.Errorf("example %s: no %s with an assert block (%v)", name, file, err)
			continue
		}
		if !strings.Contains(r.stdout, file+": pass") {
			t.Errorf("example %s: %s does not pass:\n%s", name, file, r.stdout)
		}
	}
}

// exampleNames lists the examples: the workflows and scripts of examples/
// and its folders that hold a workflow (not tests/, nor the Lua library).
func exampleNames(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("examples")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		name, ext := e.Name(), filepath.Ext(e.Name())
		switch {
		case e.IsDir():
			files, _ := filepath.Glob(filepath.Join("examples", name, "*.hcl"))
			if slices.ContainsFunc(files, func(f string) bool { return !lang.IsTestFile(f) }) {
				names = append(names, name)
			}
		case ext == ".hcl" || ext == ".lua":
			names = append(names, strings.TrimSuffix(name, ext))
		}
	}
	return names
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
