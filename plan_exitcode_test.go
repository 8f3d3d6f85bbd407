package main

import "testing"

// TestPlanDetailedExitcode checks plan's exit codes with and without
// -detailed-exitcode: 0 nothing to call, 2 calls planned, 1 an error.
func TestPlanDetailedExitcode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		args  []string
		plain int
		want  int
	}{
		{"calls planned", []string{"examples/whoami.hcl"}, exitOK, 2},
		{"script planned", []string{"-sandbox", "examples/post-and-verify.lua"}, exitOK, 2},
		{"nothing to call", []string{"testdata/cli/plan_nothing.hcl"}, exitOK, exitOK},
		{"when makes a call", []string{"-var", "go=true", "testdata/cli/plan_nothing.hcl"}, exitOK, 2},
		{"invalid workflow", []string{"testdata/cli/type_errors.hcl"}, exitInvalid, exitFailed},
		{"bad condition", []string{"testdata/cli/assertion_types.hcl"}, exitInvalid, exitFailed},
		{"missing file", []string{"testdata/cli/nope.hcl"}, exitInvalid, exitFailed},
		{"bad flag value", []string{"-color", "pink", "examples/whoami.hcl"}, exitInvalid, exitFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			plain := runCLI(t, nil, "", append([]string{"plan"}, tt.args...)...)
			if plain.code != tt.plain {
				t.Errorf("plan: exit %d, want %d:\n%s", plain.code, tt.plain, plain.stderr)
			}
			detailed := runCLI(t, nil, "", append([]string{"plan", "-detailed-exitcode"}, tt.args...)...)
			if detailed.code != tt.want {
				t.Errorf("plan -detailed-exitcode: exit %d, want %d:\n%s", detailed.code, tt.want, detailed.stderr)
			}
			if detailed.stdout != plain.stdout {
				t.Errorf("-detailed-exitcode changed the plan:\n%s\nwant:\n%s", detailed.stdout, plain.stdout)
			}
		})
	}
}
