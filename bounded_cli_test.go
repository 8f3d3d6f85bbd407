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
