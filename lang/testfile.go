package lang

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// Test files (NAME.okrutest.hcl), read by okru-run test. Modelled on
// Terraform's .tftest.hcl: a file names the workflow it tests and holds
// run blocks, each a run of that workflow with its own variables,
// assertions on its outputs and results, and the failures it expects.
//
//	workflow = "../whoami.hcl"          # default: the folder the tests are for
//	args     = ["8"]                     # for a .lua workflow: the script's arguments
//	variables { how_many = 3 }          # for every run of the file
//	run "friends" {
//	  variables { how_many = 5 }        # for this run, over the file's
//	  assert {
//	    condition     = output.friend_count > 0
//	    error_message = "no friends"
//	  }
//	  expect_failures = [call.post]     # a negative test
//	}

// TestFileSuffix ends the name of every test file.
const TestFileSuffix = ".okrutest.hcl"

// TestFile is one loaded test file.
type TestFile struct {
	Path string
	// Workflow is the workflow's path, relative to the working folder,
	// and WorkflowRange where the file names it (empty by default).
	Workflow      string
	WorkflowRange hcl.Range
	Variables     map[string]cty.Value
	// Args are the arguments of a .lua workflow's script.
	Args  []string
	Runs  []*TestRun
	Files map[string]*hcl.File // for diagnostics
}

// TestRun is a run block: one run of the workflow.
type TestRun struct {
	Name      string
	Variables map[string]cty.Value // the file's, then the run's
	// VariableRanges say where each value was written.
	VariableRanges map[string]hcl.Range
	Asserts        []*Condition
	// ExpectFailures are the steps and checks that must fail for the run
	// to pass (call.NAME, script.NAME, check.NAME).
	ExpectFailures []Reference
	DeclRange      hcl.Range
}

var testFileSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "workflow"}, {Name: "args"}},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "variables"},
		{Type: "run", LabelNames: []string{"name"}},
	},
}

// testRoots are what an assert of a test may refer to: the run's
// variables, outputs and step results.
var testRoots = []string{"var", "output", "call", "script"}

var testRunSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "expect_failures"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "variables"}, {Type: "assert"}},
}

// LoadTestFile reads a test file. defaultWorkflow is the workflow it tests
// when it names none.
func LoadTestFile(path, defaultWorkflow string) (*TestFile, hcl.Diagnostics) {
	tf := &TestFile{Path: path, Workflow: defaultWorkflow, Files: map[string]*hcl.File{}}
	src, err := os.ReadFile(path)
	if err != nil {
		return tf, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read the test file",
			Detail: fmt.Sprintf("%s: %s.", path, pathErr(err))}}
	}
	p := hclparse.NewParser()
	f, diags := parseSource(p, path, src)
	tf.Files = p.Files()
	if diags.HasErrors() {
		return tf, diags
	}
	content, d := f.Body.Content(testFileSchema)
	diags = append(diags, d...)
	if a, ok := content.Attributes["workflow"]; ok {
		name, d := staticString(a)
		diags = append(diags, d...)
		// Relative to the test file; filepath.Join would make an absolute
		// path relative too.
		tf.Workflow = name
		if !filepath.IsAbs(name) {
			tf.Workflow = filepath.Join(filepath.Dir(path), name)
		}
		tf.WorkflowRange = a.Expr.Range()
	}
	if a, ok := content.Attributes["args"]; ok {
		v, d := staticValue(a, cty.List(cty.String), "list of strings")
		diags = append(diags, d...)
		if !d.HasErrors() {
			for _, s := range v.AsValueSlice() {
				tf.Args = append(tf.Args, s.AsString())
			}
		}
	}
	tf.Variables = map[string]cty.Value{}
	fileRanges := map[string]hcl.Range{}
	seen := map[string]hcl.Range{}
	for _, b := range content.Blocks {
		switch b.Type {
		case "variables":
			diags = append(diags, testVariables(b, tf.Variables, fileRanges)...)
		case "run":
			name := b.Labels[0]
			if prev, ok := seen[name]; ok {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate run",
					Detail:  fmt.Sprintf("run %q is already declared at %s; names must be unique within a test file.", name, prev),
					Subject: b.DefRange.Ptr()})
				continue
			}
			seen[name] = b.DefRange
			r, d := decodeTestRun(b)
			diags = append(diags, d...)
			tf.Runs = append(tf.Runs, r)
		}
	}
	for _, r := range tf.Runs {
		for k, v := range tf.Variables {
			if _, ok := r.Variables[k]; !ok {
				r.Variables[k], r.VariableRanges[k] = v, fileRanges[k]
			}
		}
	}
	if len(tf.Runs) == 0 && !diags.HasErrors() {
		rng := hcl.Range{Filename: path, Start: hcl.InitialPos, End: hcl.InitialPos}
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "No runs",
			Detail:  fmt.Sprintf("The test file %s has no run block, so it tests nothing. Add one: run \"NAME\" { assert { condition = ..., error_message = \"...\" } }.", path),
			Subject: &rng})
	}
	return tf, diags
}

// testVariables reads a variables block into vals: constant values, as
// in a -var-file.
func testVariables(b *hcl.Block, vals map[string]cty.Value, ranges map[string]hcl.Range) hcl.Diagnostics {
	attrs, diags := b.Body.JustAttributes()
	for _, a := range SortedAttributes(attrs) {
		v, d := a.Expr.Value(&hcl.EvalContext{Functions: Scope{}.Functions()})
		if d.HasErrors() {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid variable value",
				Detail:  fmt.Sprintf("The value of %s in a test's variables block must be a constant (functions are allowed, references are not).", a.Name),
				Subject: a.Expr.Range().Ptr()})
			continue
		}
		vals[a.Name], ranges[a.Name] = v, a.Expr.Range()
	}
	return diags
}

func decodeTestRun(b *hcl.Block) (*TestRun, hcl.Diagnostics) {
	r := &TestRun{Name: b.Labels[0], Variables: map[string]cty.Value{}, VariableRanges: map[string]hcl.Range{}, DeclRange: b.DefRange}
	if !isIdentifier(r.Name) {
		return r, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid name",
			Detail:  fmt.Sprintf("%q is not a valid run name: use letters, digits, underscores and dashes, starting with a letter or an underscore.", r.Name),
			Subject: b.DefRange.Ptr()}}
	}
	content, diags := b.Body.Content(testRunSchema)
	for _, sb := range content.Blocks {
		switch sb.Type {
		case "variables":
			diags = append(diags, testVariables(sb, r.Variables, r.VariableRanges)...)
		case "assert":
			cond, d := decodeCondition(sb)
			diags = append(diags, d...)
			if cond != nil {
				diags = append(diags, assertType(cond)...)
				r.Asserts = append(r.Asserts, cond)
			}
		}
	}
	if a, ok := content.Attributes["expect_failures"]; ok {
		exprs, d := hcl.ExprList(a.Expr)
		diags = append(diags, d...)
		for _, e := range exprs {
			tr, d := hcl.AbsTraversalForExpr(e)
			addr, ok := Address{}, false
			if !d.HasErrors() {
				addr, ok = expectedAddress(tr)
			}
			if !ok {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid expect_failures",
					Detail:  "expect_failures lists steps, checks and modules by address, without quotes, as in expect_failures = [call.post, check.counts, upload.photos, module.post, module.post[\"news\"].call.post].",
					Subject: e.Range().Ptr()})
				continue
			}
			r.ExpectFailures = append(r.ExpectFailures, Reference{Addr: addr, Traversal: tr, Range: e.Range()})
		}
	}
	return r, diags
}

// assertType refuses, at load, an assert whose condition can never be
// true or false ("maybe", or length(output.x)), as a workflow's
// assertions are refused before anything runs. The condition is evaluated
// with what a run gives it unknown and every function unpredictable, so
// only its type is found and nothing is read or called; an expression that
// fails so is left to the run, which says why with the values it read.
func assertType(cond *Condition) hcl.Diagnostics {
	fns := Scope{}.Functions()
	for name, f := range fns {
		fns[name] = function.Unpredictable(f)
	}
	vars := map[string]cty.Value{}
	for _, root := range testRoots {
		vars[root] = cty.DynamicVal
	}
	v, diags := cond.Condition.Value(&hcl.EvalContext{Variables: vars, Functions: fns})
	if diags.HasErrors() {
		return nil
	}
	if _, d := cond.Bool(v); d != nil {
		return hcl.Diagnostics{d}
	}
	return nil
}

// expectedAddress reads an address of expect_failures: a step or check of
// the workflow (call.post), a module (module.post: any failure inside
// it), or either inside a module instance (module.post["news"].call.post).
// The module instance path goes to Address.Module.
func expectedAddress(tr hcl.Traversal) (Address, bool) {
	var module strings.Builder
	i := 0
	for i+1 < len(tr) && rootOrAttr(tr[i]) == "module" {
		name, ok := tr[i+1].(hcl.TraverseAttr)
		if !ok {
			return Address{}, false
		}
		path := module.String()
		if path != "" {
			path += "."
		}
		path += "module." + name.Name
		i += 2
		if i < len(tr) {
			if idx, ok := tr[i].(hcl.TraverseIndex); ok {
				path += traversalString(hcl.Traversal{hcl.TraverseRoot{}, idx})
				i++
			}
		}
		if i == len(tr) {
			// The whole module (instance): its path up to the last module
			// is the Module, the last one is the address.
			parent, last := "", path
			if j := strings.LastIndex(path, ".module."); j >= 0 {
				parent, last = path[:j], path[j+1:]
			}
			return Address{Kind: KindModule, Name: strings.TrimPrefix(last, "module."), Module: parent}, true
		}
		module.Reset()
		module.WriteString(path)
	}
	if len(tr)-i != 2 {
		return Address{}, false
	}
	kind := rootOrAttr(tr[i])
	name, ok := tr[i+1].(hcl.TraverseAttr)
	if !ok || !slices.Contains([]string{"call", "script", "upload", "check"}, kind) {
		return Address{}, false
	}
	return Address{Kind: Kind(kind), Name: name.Name, Module: module.String()}, true
}

func rootOrAttr(t hcl.Traverser) string {
	switch t := t.(type) {
	case hcl.TraverseRoot:
		return t.Name
	case hcl.TraverseAttr:
		return t.Name
	}
	return ""
}

// Covers reports whether a failure of the step or check at failed is
// what the expect_failures address a names: the same address, or a step
// inside the module (instance) a names.
func (a Address) Covers(failed Address) bool {
	if a == failed {
		return true
	}
	if a.Kind != KindModule {
		return false
	}
	path := "module." + a.Name // Name holds NAME[KEY] for one instance
	if a.Module != "" {
		path = a.Module + "." + path
	}
	m := failed.Module
	return m == path || strings.HasPrefix(m, path+".") || strings.HasPrefix(m, path+"[")
}

// CheckTestRun checks a run's references against the workflow it runs:
// its variables must be declared, and its asserts may refer to var.NAME,
// output.NAME, call.NAME and script.NAME of the workflow; expect_failures
// to its steps and checks.
func (c *Config) CheckTestRun(r *TestRun) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, name := range slices.Sorted(maps.Keys(r.Variables)) {
		if c.Variable(name) == nil {
			rng := r.VariableRanges[name]
			d := c.undeclaredInput(name, "The run's variables block")
			d.Subject = &rng
			diags = append(diags, d)
		}
	}
	for _, a := range r.Asserts {
		for _, e := range []hcl.Expression{a.Condition, a.ErrorMessage} {
			for _, tr := range e.Variables() {
				diags = append(diags, c.testReference(tr)...)
			}
		}
	}
	for _, ref := range r.ExpectFailures {
		diags = append(diags, c.checkExpected(ref)...)
	}
	return diags
}

// checkExpected checks that an expect_failures address names something
// the workflow (or the module it goes through) declares.
func (c *Config) checkExpected(ref Reference) hcl.Diagnostics {
	cfg, tr := c, ref.Traversal
	for len(tr) >= 2 && rootOrAttr(tr[0]) == "module" {
		name := tr[1].(hcl.TraverseAttr).Name
		m := cfg.Module(name)
		if m == nil {
			return hcl.Diagnostics{cfg.undeclared(Address{Kind: KindModule, Name: name}, ref.Range)}
		}
		tr = tr[2:]
		if len(tr) > 0 {
			if _, ok := tr[0].(hcl.TraverseIndex); ok {
				tr = tr[1:]
			}
		}
		if m.Config == nil || len(tr) == 0 {
			return nil
		}
		cfg = m.Config
	}
	addr := Address{Kind: Kind(rootOrAttr(tr[0])), Name: tr[1].(hcl.TraverseAttr).Name}
	if _, ok := cfg.byKey[addr]; !ok {
		return hcl.Diagnostics{cfg.undeclared(addr, ref.Range)}
	}
	return nil
}

func (c *Config) testReference(tr hcl.Traversal) hcl.Diagnostics {
	rng := tr.SourceRange()
	root := tr.RootName()
	bad := func(detail string) hcl.Diagnostics {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid reference", Detail: detail, Subject: rng.Ptr()}}
	}
	if !slices.Contains(testRoots, root) {
		return bad(fmt.Sprintf("There is nothing called %q in a test: an assert may refer to var., output., call. and script. of the workflow.", root))
	}
	if len(tr) < 2 {
		return bad(fmt.Sprintf("%q must be followed by a name, as in %s.NAME.", root, root))
	}
	attr, ok := tr[1].(hcl.TraverseAttr)
	if !ok {
		return bad(fmt.Sprintf("%q must be followed by a dot and a name, as in %s.NAME.", root, root))
	}
	kind := Kind(root)
	if root == "output" {
		kind = KindOutput
	}
	if _, ok := c.byKey[Address{Kind: kind, Name: attr.Name}]; !ok {
		return hcl.Diagnostics{c.undeclared(Address{Kind: kind, Name: attr.Name}, rng)}
	}
	return nil
}

// IsTestFile reports whether name is a test file's name.
func IsTestFile(name string) bool { return strings.HasSuffix(name, TestFileSuffix) }
