package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNestingTooDeepCLI gives every command that parses workflow files one
// nested 60,000 deep (120 KB), which used to end them with "fatal error:
// stack overflow" and a trace of hundreds of lines.
func TestNestingTooDeepCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const n = 60000
	deep := filepath.Join(dir, "deep.hcl")
	src := "locals {\n  x = " + strings.Repeat("[", n) + strings.Repeat("]", n) + "\n}\n"
	if err := os.WriteFile(deep, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := filepath.Join(dir, "vars.hcl")
	if err := os.WriteFile(vars, []byte("x = "+strings.Repeat("{a = ", n)+"1"+strings.Repeat("}", n)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	okFile := filepath.Join(dir, "ok.hcl")
	if err := os.WriteFile(okFile, []byte("variable \"x\" {\n  type    = list(number)\n  default = []\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		at   string
	}{
		{"validate", []string{"validate", deep}, deep + " line 2"},
		{"plan", []string{"plan", deep}, deep + " line 2"},
		{"run", []string{"run", deep}, deep + " line 2"},
		{"fmt", []string{"fmt", deep}, deep + " line 2"},
		{"graph", []string{"graph", deep}, deep + " line 2"},
		{"var-file", []string{"plan", "-var-file", vars, okFile}, vars + " line 1"},
		{"-var", []string{"plan", "-var", "x=" + strings.Repeat("[", n), okFile}, "needs a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, nil, "", tt.args...)
			if r.code != exitInvalid {
				t.Errorf("exit %d, want %d", r.code, exitInvalid)
			}
			if strings.Contains(r.stderr, "fatal error") || strings.Contains(r.stderr, "goroutine ") {
				t.Fatalf("crashed:\n%.2000s", r.stderr)
			}
			if tt.name != "-var" && !strings.Contains(r.stderr, "Nested too deeply") {
				t.Errorf("stderr does not say \"Nested too deeply\":\n%.2000s", r.stderr)
			}
			if !strings.Contains(r.stderr, tt.at) {
				t.Errorf("stderr does not contain %q:\n%.2000s", tt.at, r.stderr)
			}
		})
	}
}

// TestOperatorsTooManyCLI gives every command that parses HCL an
// expression of 1,000,000 operators (a 4 MB file), which used to grow
// validate to 1.6 GB in 14 s and end it with "fatal error: stack
// overflow": each refuses it with a diagnostic at its line, before any
// parser sees it.
func TestOperatorsTooManyCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const n = 1000000
	write := func(name, src string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	sum := "1" + strings.Repeat(" + 1", n)
	long := write("long.hcl", "locals {\n  x = "+sum+"\n}\n")
	cond := write("cond.hcl", "locals {\n  x = "+strings.Repeat("true ? ", n)+"1"+strings.Repeat(" : 0", n)+"\n}\n")
	vars := write("vars.hcl", "x = "+sum+"\n")
	okFile := write("ok.hcl", "variable \"x\" {\n  type    = number\n  default = 0\n}\n")
	// One term a line: the diagnostic shows the line (a refused file of
	// one huge line shows none).
	lines := write("lines.hcl", "output \"x\" {\n  value = (\n"+strings.Repeat("    1 +\n", 5000)+"    1\n  )\n}\n")
	tests := []struct {
		name string
		args []string
		at   string
	}{
		{"validate", []string{"validate", long}, long + " line 2"},
		{"validate conditionals", []string{"validate", cond}, cond + " line 2"},
		{"validate one term a line", []string{"validate", lines}, lines + " line 4099:\n4099:     1 +\n"},
		{"plan", []string{"plan", long}, long + " line 2"},
		{"run", []string{"run", long}, long + " line 2"},
		{"fmt", []string{"fmt", long}, long + " line 2"},
		{"graph", []string{"graph", long}, long + " line 2"},
		{"var-file", []string{"plan", "-var-file", vars, okFile}, vars + " line 1"},
		{"config", []string{"run", "-config", long, "testdata/cli/script_echo.lua"}, long + " line 2"},
		{"-var", []string{"plan", "-var", "x=" + sum, okFile}, "needs a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, nil, "", tt.args...)
			if r.code != exitInvalid {
				t.Errorf("exit %d, want %d", r.code, exitInvalid)
			}
			if strings.Contains(r.stderr, "fatal error") || strings.Contains(r.stderr, "goroutine ") {
				t.Fatalf("crashed:\n%.2000s", r.stderr)
			}
			if tt.name != "-var" && !strings.Contains(r.stderr, "Too many operators in one expression") {
				t.Errorf("stderr does not say \"Too many operators in one expression\":\n%.2000s", r.stderr)
			}
			if !strings.Contains(r.stderr, tt.at) {
				t.Errorf("stderr does not contain %q:\n%.2000s", tt.at, r.stderr)
			}
			if len(r.stderr) > 4096 {
				t.Errorf("stderr has %d bytes: a snippet of the huge line?\n%.2000s", len(r.stderr), r.stderr)
			}
		})
	}
}

// TestScriptStringWorkCLI runs issue 11's Lua attacks through the binary:
// each ends with a clear error instead of gigabytes or minutes of work in
// one instruction, and a timeout stops string work in a loop.
func TestScriptStringWorkCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name, src string
		args      []string
		want      string
	}{
		{"concat", `local s = string.rep("x", 16 * 1024 * 1024 - 1) local t = {} for i = 1, 200 do t[i] = s end return #table.concat(t)`,
			nil, "concat.lua:1: table.concat: the result would be longer than the 16 MiB limit"},
		{"gsub", `local s = string.rep("x", 6000) return #s:gsub(".", s)`,
			nil, "gsub.lua:1: string.gsub: the result would be longer than the 16 MiB limit"},
		{"gsubloop", `local s = string.rep("x", 4 * 1024 * 1024) while true do s:gsub("x", "yy") end`,
			[]string{"-timeout", "200ms"}, "script stopped: timeout after 200ms"},
		{"doubling", `local s = "x" while true do s = s .. s end`,
			nil, "doubling.lua:1: concatenation (..): the result would be longer than the 16 MiB limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, tt.name+".lua")
			if err := os.WriteFile(path, []byte(tt.src), 0o600); err != nil {
				t.Fatal(err)
			}
			r := runCLI(t, nil, "", append(append([]string{"run"}, tt.args...), path)...)
			if r.code != exitFailed {
				t.Errorf("exit %d, want %d", r.code, exitFailed)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr does not contain %q:\n%.2000s", tt.want, r.stderr)
			}
		})
	}
}
