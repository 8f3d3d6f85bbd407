package lang

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestFunctionsGolden evaluates the functions Terraform users reach for,
// on the values they meet (objects of instances, strings, keys files, a
// folder of photos), and compares every value or error with
// testdata/functions.golden (-update rewrites it).
func TestFunctionsGolden(t *testing.T) {
	t.Parallel()
	scope := Scope{Dir: filepath.Join("testdata", "fileset")}
	instances := cty.ObjectVal(map[string]cty.Value{
		"a": cty.ObjectVal(map[string]cty.Value{"result": cty.ObjectVal(map[string]cty.Value{"id": cty.StringVal("1")})}),
		"b": cty.ObjectVal(map[string]cty.Value{"result": cty.ObjectVal(map[string]cty.Value{"id": cty.StringVal("2")})}),
	})
	pending := cty.ObjectVal(map[string]cty.Value{
		"a": cty.ObjectVal(map[string]cty.Value{"result": cty.DynamicVal}),
		"b": cty.ObjectVal(map[string]cty.Value{"result": cty.DynamicVal}),
	})
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"call": cty.ObjectVal(map[string]cty.Value{"post": instances, "pending": pending})},
		Functions: scope.Functions(),
	}
	exprs := []string{
		// length of everything Terraform's length takes
		`length(call.post)`,
		`length(call.pending)`,
		`length({a = 1, b = 2, c = 3})`,
		`length("Привет")`,
		`length([1, 2])`,
		`length(toset(["a", "a", "b"]))`,
		`length(null)`,
		`length(1)`,
		// instances as a map
		`keys(call.post)`,
		`values(call.post)[*].result.id`,
		`[for k, v in call.post : "${k}=${v.result.id}"]`,
		`{for k, v in call.post : v.result.id => k}`,
		`call.post[*].result`,
		// range beyond cty's 1,024
		`length(range(2000))`,
		`length({for i in range(2000) : tostring(i) => i})`,
		`range(3)`,
		`range(1, 4)`,
		`range(4, 1)`,
		`range(0, 1, 0.25)`,
		`range(0, 10, 0)`,
		`range(2000000)`,
		// one, alltrue, anytrue, sum
		`one([])`,
		`one(["x"])`,
		`one(["x", "y"])`,
		`alltrue([true, true])`,
		`alltrue([true, false])`,
		`alltrue([])`,
		`anytrue([false, true])`,
		`anytrue([])`,
		`alltrue(["yes"])`,
		`sum([1, 2, 3.5])`,
		`sum([])`,
		// string tests
		`startswith("500000000001", "5000")`,
		`endswith("photo.jpg", ".png")`,
		`strcontains("Hello, world", "world")`,
		// fileset: confined, links not listed
		`fileset(".", "*.txt")`,
		`fileset("photos", "*.jpg")`,
		`fileset("photos", "**/*.jpg")`,
		`fileset(".", "**")`,
		`fileset("..", "*")`,
		`fileset("/etc", "*")`,
		`fileset("nosuch", "*")`,
		`fileset(".", "[")`,
	}
	var out strings.Builder
	for _, src := range exprs {
		expr, diags := hclsyntax.ParseExpression([]byte(src), "expr.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", src, diags.Error())
		}
		v, diags := expr.Value(ctx)
		if diags.HasErrors() {
			var msgs []string
			for _, d := range diags {
				msgs = append(msgs, d.Detail)
			}
			fmt.Fprintf(&out, "%s\n  error: %s\n", src, strings.Join(msgs, "; "))
			continue
		}
		fmt.Fprintf(&out, "%s\n  = %s\n", src, FormatValue(v, 2))
	}
	golden := filepath.Join("testdata", "functions.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != string(want) {
		t.Errorf("functions differ from %s (go test ./lang -run TestFunctionsGolden -update rewrites it):\n%s", golden, got)
	}
}

// TestFunctionNamesDocumented keeps the function list of docs/language.md
// whole.
func TestFunctionNamesDocumented(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "docs", "language.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	start, end := strings.Index(text, "\n## Functions\n"), strings.Index(text, "\n## Variables\n")
	if start < 0 || end < start {
		t.Fatal("docs/language.md has no Functions section before Variables")
	}
	listed := map[string]bool{}
	for i, part := range strings.Split(text[start:end], "`") {
		if i%2 == 0 {
			continue // outside backquotes
		}
		for _, w := range strings.Fields(part) {
			listed[strings.SplitN(w, "(", 2)[0]] = true
		}
	}
	for _, name := range FunctionNames() {
		if !listed[name] {
			t.Errorf("docs/language.md's Functions section does not list %s", name)
		}
	}
}
