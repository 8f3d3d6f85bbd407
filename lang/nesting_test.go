package lang

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
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

// TestOperatorLimit feeds every parse path an expression of 1,000,000
// operators (a 4 MB file), which HCL makes a tree 1,000,000 deep: before
// the limit, validate grew to 1.6 GB in 14 s and then overflowed the
// stack. Each must be refused with a diagnostic at the line instead.
func TestOperatorLimit(t *testing.T) {
	t.Parallel()
	const n = 1000000
	local := func(expr string) string { return "locals {\n  x = " + expr + "\n}\n" }
	jsonLocal := func(s string) string {
		b, _ := json.Marshal(map[string]any{"locals": map[string]string{"x": s}})
		return string(b)
	}
	tests := []struct {
		name, file, src, summary string
		line                     int
	}{
		{"sum", "w.hcl", local("1" + strings.Repeat(" + 1", n)), tooManyOps, 2},
		{"conditionals", "w.hcl", local(strings.Repeat("true ? ", n) + "1" + strings.Repeat(" : 0", n)), tooManyOps, 2},
		{"else conditionals", "w.hcl", local(strings.Repeat("false ? 0 : ", n) + "1"), tooManyOps, 2},
		{"over lines in parentheses", "w.hcl", local("(1" + strings.Repeat("\n  + 1", n) + ")"), tooManyOps, 2 + MaxOperators + 1},
		{"indexes", "w.hcl", local("local.y" + strings.Repeat("[local.i]", n)), tooManyOps, 2},
		{"splats", "w.hcl", local("local.y" + strings.Repeat("[*]", n)), tooManyOps, 2},
		{"json template", "w.json", jsonLocal("${1" + strings.Repeat(" + 1", n) + "}"), tooManyOps, 1},
		{"json template nested", "w.json", jsonLocal("${" + strings.Repeat("[", 60000) + strings.Repeat("]", 60000) + "}"), "Nested too deeply", 1},
		{"json type", "w.json", `{"variable": {"v": {"type":` + "\n" + `"` + strings.Repeat("list(", 60000) + "string" + strings.Repeat(")", 60000) + `"}}}`, "Nested too deeply", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			check := func(what string, diags hcl.Diagnostics) {
				t.Helper()
				if len(diags) != 1 || diags[0].Summary != tt.summary {
					t.Fatalf("%s: got %.500v, want one %q diagnostic", what, diags, tt.summary)
				}
				if s := diags[0].Subject; s == nil || s.Filename != tt.file || s.Start.Line != tt.line {
					t.Errorf("%s: subject %v, want %s line %d", what, s, tt.file, tt.line)
				}
			}
			_, diags := LoadSource(tt.file, []byte(tt.src), t.TempDir())
			check("LoadSource", diags)
			if strings.HasSuffix(tt.file, ".hcl") {
				_, diags = Format(tt.file, []byte(tt.src))
				check("Format", diags)
			}
		})
	}
}

const tooManyOps = "Too many operators in one expression"

// Chains up to MaxOperators load and evaluate; chains in separate
// attributes, list items or brackets that have closed do not add up, and
// operators in strings, comments and JSON strings that are not templates do
// not count.
func TestOperatorsWithinLimit(t *testing.T) {
	t.Parallel()
	chain := func(n int) string { return "1" + strings.Repeat(" + 1", n) }
	tests := map[string]string{
		"at the limit":       "x = " + chain(MaxOperators),
		"conditionals":       "x = " + strings.Repeat("false ? 0 : ", MaxOperators/2) + "1",
		"attributes":         "x = " + chain(MaxOperators) + "\ny = " + chain(MaxOperators),
		"list items":         "x = [" + chain(MaxOperators-1) + ", " + chain(MaxOperators-1) + "]",
		"closed parentheses": "x = (" + chain(MaxOperators/2) + ") + (" + chain(MaxOperators/2) + ")",
		"object items":       "x = {\n  a = " + chain(MaxOperators-1) + "\n  b = " + chain(MaxOperators-1) + "\n}",
		"strings":            "x = \"" + strings.Repeat("1 + ", 2*MaxOperators) + "\"",
		"heredoc":            "x = <<EOT\n" + strings.Repeat("1 + ", 2*MaxOperators) + "\nEOT\n",
		"comments":           "# " + strings.Repeat("- ", 2*MaxOperators) + "\nx = 1",
	}
	for name, src := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if diags := CheckNesting("w.hcl", []byte(src)); diags.HasErrors() {
				t.Fatalf("CheckNesting: %.300v", diags)
			}
			f, diags := hclsyntax.ParseConfig([]byte(src), "w.hcl", hcl.InitialPos)
			if diags.HasErrors() {
				t.Fatalf("parse: %.300v", diags)
			}
			attrs, _ := f.Body.JustAttributes()
			for _, a := range attrs {
				if _, diags := a.Expr.Value(nil); diags.HasErrors() {
					t.Errorf("%s: %.300v", a.Name, diags)
				}
			}
		})
	}
	t.Run("one more", func(t *testing.T) {
		t.Parallel()
		diags := CheckNesting("w.hcl", []byte("x = "+chain(MaxOperators+1)))
		if len(diags) != 1 || diags[0].Summary != tooManyOps {
			t.Errorf("got %.300v, want %q", diags, tooManyOps)
		}
		diags = CheckNesting("w.hcl", []byte("x = "+chain(MaxOperators/2)+" + ("+chain(MaxOperators/2)+")"))
		if len(diags) != 1 || diags[0].Summary != tooManyOps {
			t.Errorf("open parentheses: got %.300v, want %q", diags, tooManyOps)
		}
	})
	jsonSrc := `{"locals": {"x": "` + strings.Repeat("1 + ", 2*MaxOperators) + `", "y": "` + strings.Repeat("[", 1000) + `"}}`
	if diags := CheckNesting("w.json", []byte(jsonSrc)); diags.HasErrors() {
		t.Errorf("json strings that are not templates: %.300v", diags)
	}
}
