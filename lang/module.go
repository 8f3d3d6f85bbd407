package lang

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// ModuleCall is a module block: the workflow of another folder, run as
// part of this one, once or once per for_each element. Its variables are
// the inputs the block sets; its outputs are module.NAME.OUTPUT here; its
// sessions are the caller's, passed in by name.
type ModuleCall struct {
	Name        string
	Source      string // as written: "./modules/post-with-photos"
	SourceRange hcl.Range
	ForEach     hcl.Expression // nil without for_each
	DependsOn   []Reference
	// Sessions maps a session the module declares to the caller's session
	// it runs with (the sessions attribute); a session it does not name is
	// the caller's of the same name, or the caller's only one.
	Sessions      map[string]string
	SessionsRange hcl.Range
	// Inputs are the values of the module's variables, by variable name.
	Inputs map[string]*hcl.Attribute
	// Config is the module's workflow, loaded from its folder.
	Config *Config
	// ForEachRefs are the references of for_each, InputRefs those of each
	// input, by variable name, in this (the calling) workflow.
	ForEachRefs []Reference
	InputRefs   map[string][]Reference
	DeclRange   hcl.Range
}

// moduleMeta are the attributes of a module block that are not inputs.
var moduleMeta = []string{"source", "for_each", "depends_on", "sessions"}

// moduleReserved are names a module block refuses, with what to write.
var moduleReserved = map[string]string{
	"count":     "modules repeat with for_each: for_each = range(3) makes three instances, keyed 0, 1 and 2",
	"providers": "okru-run passes sessions, not providers: sessions = { main = \"admin\" }",
	"version":   "modules are read from local folders only, so they have no version: vendor the version you want into the workflow's folder",
}

// Module returns the module block called name, or nil.
func (c *Config) Module(name string) *ModuleCall {
	m, _ := c.byKey[Address{Kind: KindModule, Name: name}].(*ModuleCall)
	return m
}

// Output returns the output called name, or nil.
func (c *Config) Output(name string) *Output {
	o, _ := c.byKey[Address{Kind: KindOutput, Name: name}].(*Output)
	return o
}

func (c *Config) decodeModule(b *hcl.Block) hcl.Diagnostics {
	m := &ModuleCall{Name: b.Labels[0], Inputs: map[string]*hcl.Attribute{}, InputRefs: map[string][]Reference{}, DeclRange: b.DefRange}
	diags := c.declare(Address{Kind: KindModule, Name: m.Name}, m, b.DefRange)
	if diags.HasErrors() {
		return diags
	}
	c.Modules = append(c.Modules, m)
	attrs, d := b.Body.JustAttributes()
	diags = append(diags, d...)
	for _, a := range SortedAttributes(attrs) {
		if hint, ok := moduleReserved[a.Name]; ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unsupported argument",
				Detail: fmt.Sprintf("A module block has no %s: %s.", a.Name, hint), Subject: a.NameRange.Ptr()})
			continue
		}
		if !slices.Contains(moduleMeta, a.Name) {
			m.Inputs[a.Name] = a
			continue
		}
		switch a.Name {
		case "source":
			m.Source, d = staticString(a)
			diags = append(diags, d...)
			m.SourceRange = a.Expr.Range()
		case "for_each":
			m.ForEach = a.Expr
		case "depends_on":
			m.DependsOn, d = decodeDependsOn(a)
			diags = append(diags, d...)
		case "sessions":
			m.Sessions, d = decodeSessionMap(a)
			diags = append(diags, d...)
			m.SessionsRange = a.Expr.Range()
		}
	}
	if _, ok := attrs["source"]; !ok && !d.HasErrors() {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing source",
			Detail:  fmt.Sprintf("module %q needs a source: the folder of the module's workflow, as in source = \"./modules/post-with-photos\".", m.Name),
			Subject: b.DefRange.Ptr()})
	}
	return diags
}

// decodeSessionMap reads sessions = { MODULE_SESSION = "CALLER_SESSION" }.
func decodeSessionMap(a *hcl.Attribute) (map[string]string, hcl.Diagnostics) {
	bad := hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid sessions",
		Detail:  "sessions maps the module's sessions to this workflow's by name, in literal strings, as in sessions = { main = \"admin\" }.",
		Subject: a.Expr.Range().Ptr()}}
	pairs, diags := hcl.ExprMap(a.Expr)
	if diags.HasErrors() {
		return nil, bad
	}
	out := map[string]string{}
	for _, p := range pairs {
		key := hcl.ExprAsKeyword(p.Key)
		if key == "" {
			v, d := p.Key.Value(nil)
			if d.HasErrors() || v.Type() != cty.String || v.IsNull() {
				return nil, bad
			}
			key = v.AsString()
		}
		v, d := p.Value.Value(nil)
		if d.HasErrors() || v.Type() != cty.String || v.IsNull() {
			return nil, bad
		}
		out[key] = v.AsString()
	}
	return out, nil
}

// moduleLoader loads the modules of one workflow: each folder once, only
// from below the workflow's folder, and never a module that uses itself.
type moduleLoader struct {
	root  string             // the real path of the top workflow's folder
	cache map[string]*Config // by real folder
	stack []string           // the real folders being loaded, outermost first
	names []string           // module.NAME of each level below the top, for messages
}

// loadModules loads the modules of a workflow, c, whose folder is the
// top of the tree modules are read from.
func (c *Config) loadModules() hcl.Diagnostics {
	if len(c.Modules) == 0 {
		return nil
	}
	dir := c.Dir
	if dir == "" {
		dir = "."
	}
	root, err := filepath.Abs(dir)
	if err == nil {
		root, err = filepath.EvalSymlinks(root)
	}
	if err != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read the workflow folder", Detail: fmt.Sprintf("%s: %s.", dir, pathErr(err))}}
	}
	l := &moduleLoader{root: root, cache: map[string]*Config{}, stack: []string{root}}
	return l.loadModules(c)
}

// loadModules loads the module blocks of c, recursively, and checks the
// inputs each block sets.
func (l *moduleLoader) loadModules(c *Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, m := range c.Modules {
		if m.Source == "" {
			continue
		}
		mc, d := l.load(c, m)
		diags = append(diags, d...)
		if mc == nil {
			continue
		}
		m.Config = mc
		maps.Copy(c.files, mc.files)
		diags = append(diags, m.checkInputs()...)
	}
	return diags
}

// load loads the module m of c.
func (l *moduleLoader) load(c *Config, m *ModuleCall) (*Config, hcl.Diagnostics) {
	fail := func(summary, format string, args ...any) (*Config, hcl.Diagnostics) {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: m.SourceRange.Ptr()}}
	}
	src := m.Source
	if !strings.HasPrefix(src, "./") && !strings.HasPrefix(src, "../") {
		return fail("Unsupported module source", "%q is not a local path. Modules are read from folders of the workflow's tree only (no registry, no network): write a path starting with ./ or ../, as in \"./modules/post\", and vendor a module kept in another repository into the workflow's folder.", src)
	}
	dir := filepath.Join(c.Dir, filepath.FromSlash(src))
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fail("Module not found", "The folder %s does not exist (source %q is read from %s).", dir, src, displayDir(c.Dir))
	case err != nil:
		return fail("Module not found", "%s: %s.", dir, pathErr(err))
	case !fi.IsDir():
		return fail("Invalid module source", "%s is not a folder: a module is a folder of .hcl files.", dir)
	}
	real, err := filepath.Abs(dir)
	if err == nil {
		real, err = filepath.EvalSymlinks(real)
	}
	if err != nil {
		return fail("Module not found", "%s: %s.", dir, pathErr(err))
	}
	if rel, err := filepath.Rel(l.root, real); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fail("Module outside the workflow", "%q is %s, outside the workflow's folder %s (a symbolic link or ../ leads out of it). Modules are read only from below the workflow's folder: copy (vendor) the module into it.", src, real, l.root)
	}
	if i := slices.Index(l.stack, real); i >= 0 {
		chain := append(append([]string{"the workflow"}, l.names...), "module."+m.Name)
		return fail("Recursive module", "module.%s uses %s, the folder of %s, which contains it: %s. A module may not use itself, directly or through other modules.",
			m.Name, src, chain[i], strings.Join(chain, " → "))
	}
	if mc, ok := l.cache[real]; ok {
		return mc, nil
	}
	l.stack = append(l.stack, real)
	l.names = append(l.names, "module."+m.Name)
	defer func() {
		l.stack = l.stack[:len(l.stack)-1]
		l.names = l.names[:len(l.names)-1]
	}()
	mc := newConfig(dir)
	files, _, diags := workflowFiles(dir)
	if diags.HasErrors() {
		return fail("Empty module", "The folder %s holds no .hcl or .hcl.json files: a module is a folder of workflow files.", dir)
	}
	bodies, d := mc.parseFiles(files)
	diags = append(diags, d...)
	if d.HasErrors() {
		return mc, diags
	}
	for _, f := range bodies {
		diags = append(diags, mc.decodeFile(f.Body, false)...)
	}
	diags = append(diags, l.loadModules(mc)...)
	diags = append(diags, mc.checkReferences()...)
	l.cache[real] = mc
	return mc, diags
}

func displayDir(dir string) string {
	if dir == "" {
		return "the current folder"
	}
	return dir
}

// checkInputs checks the inputs a module block sets against the module's
// variables: each names one, every required one is set, and a constant
// value has the variable's type.
func (m *ModuleCall) checkInputs() hcl.Diagnostics {
	var diags hcl.Diagnostics
	var names []string
	for _, v := range m.Config.Variables {
		names = append(names, v.Name)
	}
	for _, a := range SortedAttributes(m.Inputs) {
		v := m.Config.Variable(a.Name)
		if v == nil {
			detail := fmt.Sprintf("The module %s has no variable %q, so module.%s cannot set it.", m.Source, a.Name, m.Name)
			if s := suggestion(a.Name, names, ""); s != "" {
				detail += s
			} else if len(names) > 0 {
				detail += " Its variables: " + strings.Join(names, ", ") + "."
			} else {
				detail += " It declares no variables."
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unsupported input", Detail: detail, Subject: a.NameRange.Ptr()})
			continue
		}
		if len(a.Expr.Variables()) > 0 {
			continue // checked when evaluated
		}
		val, d := a.Expr.Value(nil)
		if d.HasErrors() {
			continue // a function call: checked when evaluated
		}
		if _, err := ConvertVariable(v, val); err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for input",
				Detail:  fmt.Sprintf("The value does not suit var.%s of the module %s, of type %s: %s.", v.Name, m.Source, typeString(v.Type), err),
				Subject: a.Expr.Range().Ptr()})
		}
	}
	var missing []string
	for _, v := range m.Config.Variables {
		if _, set := m.Inputs[v.Name]; !set && v.Required() {
			missing = append(missing, v.Name)
		}
	}
	if len(missing) > 0 {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing required input",
			Detail: fmt.Sprintf("module.%s must set %s: the module's variables without a default. Add %s = ... to the module block.",
				m.Name, strings.Join(missing, ", "), missing[0]),
			Subject: m.DeclRange.Ptr()})
	}
	return diags
}

// InputValue converts the value given to the module's variable v and
// checks its validations, as a workflow's variables are checked; funcs
// serve the conditions. The engine says which module instance the
// diagnostics are about.
func InputValue(v *Variable, val cty.Value, rng hcl.Range, funcs map[string]function.Function) (cty.Value, hcl.Diagnostics) {
	conv, err := ConvertVariable(v, val)
	if err != nil {
		return cty.DynamicVal, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid value for input",
			Detail:  fmt.Sprintf("The value does not suit var.%s of the module, of type %s: %s.", v.Name, typeString(v.Type), err),
			Subject: rng.Ptr()}}
	}
	if len(v.Validations) == 0 {
		return conv, nil
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{v.Name: conv})},
		Functions: funcs,
	}
	var diags hcl.Diagnostics
	for _, val := range v.Validations {
		diags = append(diags, checkValidation(v, val, ctx)...)
	}
	return conv, diags
}

// checkTraversal checks a reference to the module's outputs: module.NAME.OUT
// without for_each, module.NAME[KEY].OUT with it, or the whole module.NAME.
func (m *ModuleCall) checkTraversal(tr hcl.Traversal) *hcl.Diagnostic {
	bad := func(format string, args ...any) *hcl.Diagnostic {
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid reference", Detail: fmt.Sprintf(format, args...), Subject: tr.SourceRange().Ptr()}
	}
	rest := tr[2:]
	if m.ForEach != nil {
		if len(rest) == 0 {
			return nil
		}
		if _, ok := rest[0].(hcl.TraverseAttr); ok {
			return bad("module.%s uses for_each, so it holds the outputs of each instance: write module.%s[KEY].OUTPUT for one instance, or values(module.%s) for all of them.", m.Name, m.Name, m.Name)
		}
		rest = rest[1:]
	} else if len(rest) > 0 {
		if _, ok := rest[0].(hcl.TraverseAttr); !ok {
			return bad("module.%s has no for_each, so it cannot be indexed: its outputs are module.%s.OUTPUT.", m.Name, m.Name)
		}
	}
	if len(rest) == 0 || m.Config == nil {
		return nil
	}
	out, ok := rest[0].(hcl.TraverseAttr)
	if !ok || m.Config.Output(out.Name) != nil {
		return nil
	}
	var names []string
	for _, o := range m.Config.Outputs {
		names = append(names, o.Name)
	}
	detail := fmt.Sprintf("The module %s has no output %q.", m.Source, out.Name)
	if s := suggestion(out.Name, names, ""); s != "" {
		detail += s
	} else if len(names) > 0 {
		detail += " Its outputs: " + strings.Join(names, ", ") + "."
	} else {
		detail += " It declares no outputs."
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unsupported attribute", Detail: detail, Subject: tr.SourceRange().Ptr()}
}
