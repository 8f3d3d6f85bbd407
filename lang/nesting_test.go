package lang

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// TestNestingLimit feeds every parse path source nested 60,000 deep, which
// overflows the goroutine stack in HCL's parsers (a fatal error, not a
// panic): each must answer with a diagnostic at the line where the limit
// is passed instead.
func TestNestingLimit(t *testing.T) {
	t.Parallel()
	const n = 60000
	deep := func(open, mid, end string) string {
		return "locals {\n  x = " + strings.Repeat(open, n) + mid + strings.Repeat(end, n) + "\n}\n"
	}
	tests := []struct{ name, file, src string }{
		{"brackets", "w.hcl", deep("[", "", "]")},
		{"objects", "w.hcl", deep("{a = ", "1", "}")},
		{"parentheses", "w.hcl", deep("(", "1", ")")},
		{"interpolations", "w.hcl", deep(`"${`, "1", `}"`)},
		{"unary operators", "w.hcl", deep("!", "true", "")},
		{"negations", "w.hcl", deep("- ", "1", "")},
		{"blocks", "w.hcl", "\n" + strings.Repeat("a {\n", n) + strings.Repeat("}\n", n)},
		{"json", "w.json", "{\"locals\": {\"x\":\n" + strings.Repeat("[", n) + strings.Repeat("]", n) + "}}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wantLine := 2
			if tt.name == "blocks" {
				wantLine = 1 + MaxNesting + 1 // one block a line, after an empty line
			}
			check := func(what string, diags hcl.Diagnostics) {
				t.Helper()
				if len(diags) != 1 || diags[0].Summary != "Nested too deeply" {
					t.Fatalf("%s: got %v, want one \"Nested too deeply\" diagnostic", what, diags)
				}
				if s := diags[0].Subject; s == nil || s.Filename != tt.file || s.Start.Line != wantLine {
					t.Errorf("%s: subject %v, want %s line %d", what, s, tt.file, wantLine)
				}
			}
			_, diags := LoadSource(tt.file, []byte(tt.src), t.TempDir())
			check("LoadSource", diags)

			dir := t.TempDir()
			path := filepath.Join(dir, tt.file)
			if err := os.WriteFile(path, []byte(tt.src), 0o600); err != nil {
				t.Fatal(err)
			}
			tt.file = path
			_, diags = Load(path)
			check("Load", diags)
			if strings.HasSuffix(path, ".hcl") {
				_, diags = Format(path, []byte(tt.src))
				check("Format", diags)
			}
		})
	}
}

// Nesting up to the limit is fine, and brackets in strings, comments and
// heredocs do not count.
func TestNestingWithinLimit(t *testing.T) {
	t.Parallel()
	d := MaxNesting - 2 // the locals block and the list around
	tests := map[string]string{
		"at the limit": "locals {\n  x = [" + strings.Repeat("(", d) + "1" + strings.Repeat(")", d) + "]\n}\n",
		"strings":      "locals {\n  x = \"" + strings.Repeat("[", 1000) + "\"\n}\n",
		"comments":     "# " + strings.Repeat("{", 1000) + "\nlocals {\n  x = 1 // " + strings.Repeat("(", 1000) + "\n}\n",
		"heredoc":      "locals {\n  x = <<EOT\n" + strings.Repeat("[", 1000) + "\nEOT\n}\n",
		"subtraction":  "locals {\n  x = 1" + strings.Repeat(" - 1", 1000) + "\n}\n",
	}
	for name, src := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if diags := CheckNesting("w.hcl", []byte(src)); diags.HasErrors() {
				t.Errorf("CheckNesting: %v", diags)
			}
			if _, diags := LoadSource("w.hcl", []byte(src), t.TempDir()); diags.HasErrors() {
				t.Errorf("LoadSource: %v", diags)
			}
		})
	}
	jsonSrc := `{"locals": {"x": "` + strings.Repeat("[", 1000) + `\"{"}}`
	if diags := CheckNesting("w.json", []byte(jsonSrc)); diags.HasErrors() {
		t.Errorf("json string: %v", diags)
	}
}
