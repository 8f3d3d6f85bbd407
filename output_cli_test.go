package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOutputCommand runs a workflow with a state journal, then reads its
// outputs back with okru-run output in every form.
func TestOutputCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src, err := os.ReadFile("testdata/cli/outputs.hcl")
	if err != nil {
		t.Fatal(err)
	}
	wf := filepath.Join(dir, "outputs.hcl")
	if err := os.WriteFile(wf, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, nil, "", "output", wf); r.code != exitFailed || !strings.Contains(r.stderr, "no state at") {
		t.Fatalf("before a run: exit %d, %s", r.code, r.stderr)
	}
	// The default state beside the workflow: a run without -sandbox keeps
	// one, so point the session at a sandbox through a state file.
	state := filepath.Join(dir, ".okru-run", "outputs.hcl.journal")
	if r := runCLI(t, nil, "", "run", "-sandbox", "-state", state, wf); r.code != exitOK {
		t.Fatalf("run: exit %d:\n%s", r.code, r.stderr)
	}
	journal, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(journal), "pin-SECRET") {
		t.Errorf("the journal holds the sensitive output:\n%s", journal)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
	}{
		{"all", []string{wf}, exitOK, "uid = \"500000527461\"\ncount = 3\nnames = [\"Олег\", \"Иванов\"]\npin = (sensitive)\n"},
		{"one", []string{wf, "uid"}, exitOK, "\"500000527461\"\n"},
		{"raw string", []string{"-raw", wf, "uid"}, exitOK, "500000527461"},
		{"raw number", []string{"-raw", wf, "count"}, exitOK, "3"},
		{"json one", []string{"-json", wf, "names"}, exitOK, "[\"Олег\",\"Иванов\"]\n"},
		{"json all", []string{"-json", "-state", state}, exitOK, "{\n  \"uid\": {\"sensitive\": false, \"value\": \"500000527461\"},\n  \"count\": {\"sensitive\": false, \"value\": 3},\n  \"names\": {\"sensitive\": false, \"value\": [\"Олег\",\"Иванов\"]},\n  \"pin\": {\"sensitive\": true}\n}\n"},
		{"raw list", []string{"-raw", wf, "names"}, exitFailed, ""},
		{"raw sensitive", []string{"-raw", wf, "pin"}, exitFailed, ""},
		{"raw without a name", []string{"-raw", wf}, exitInvalid, ""},
		{"unknown output", []string{wf, "nosuch"}, exitFailed, ""},
		{"unknown workflow", []string{"nosuch.hcl"}, exitFailed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, nil, "", append([]string{"output"}, tt.args...)...)
			if r.code != tt.code || r.stdout != tt.stdout {
				t.Errorf("exit %d, stdout %q; want %d, %q\n%s", r.code, r.stdout, tt.code, tt.stdout, r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, "pin-SECRET") {
				t.Errorf("the secret is shown: %s%s", r.stdout, r.stderr)
			}
		})
	}
}
