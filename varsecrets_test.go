package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The diagnostics of resolving the variables are printed before the run's
// redactor exists; the values of sensitive variables, short ones too, must
// not appear in them, -var-file snippets included.
func TestVariableDiagnosticsHideSecrets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	wf := filepath.Join(dir, "w.hcl")
	vf := filepath.Join(dir, "v.hcl")
	write := func(path, src string) {
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(wf, "variable \"pin\" {\n  type      = number\n  sensitive = true\n}\nvariable \"name\" { type = string }\n")
	write(vf, "pin = \"abc42\"\nname = \"x\"\n")
	for _, tt := range []struct {
		name   string
		env    []string
		args   []string
		secret string
	}{
		{"var-file", nil, []string{"-var-file", vf}, "abc42"},
		{"var", nil, []string{"-var", "pin=\"pin42\"", "-var", "name=x"}, "pin42"},
		{"env", []string{"OKRU_VAR_pin=\"zq9\""}, []string{"-var", "name=x"}, "zq9"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := runCLI(t, tt.env, "", append(append([]string{"run"}, tt.args...), wf)...)
			if res.code == 0 || !strings.Contains(res.stderr, "var.pin") {
				t.Fatalf("exit %d, stderr:\n%s\nwant an error about var.pin", res.code, res.stderr)
			}
			if strings.Contains(res.stderr, tt.secret) {
				t.Errorf("stderr shows the sensitive value %q:\n%s", tt.secret, res.stderr)
			}
		})
	}
}
