package lang

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

var rootSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "session", LabelNames: []string{"name"}},
		{Type: "call", LabelNames: []string{"name"}},
		{Type: "script", LabelNames: []string{"name"}},
		{Type: "upload", LabelNames: []string{"name"}},
		{Type: "output", LabelNames: []string{"name"}},
		{Type: "check", LabelNames: []string{"name"}},
		{Type: "module", LabelNames: []string{"name"}},
	},
}

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "type"}, {Name: "default"}, {Name: "description"}, {Name: "sensitive"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "validation"}},
}

var validationSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "condition", Required: true}, {Name: "error_message", Required: true}},
}

var sessionSchema = func() *hcl.BodySchema {
	s := &hcl.BodySchema{}
	for _, a := range SessionAttributes {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: a.Name})
	}
	return s
}()

var callSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "method", Required: true}, {Name: "params"}, {Name: "session"}, {Name: "for_each"},
		{Name: "when"}, {Name: "depends_on"}, {Name: "paginate"}, {Name: "timeout"}, {Name: "unlisted"},
	},
	Blocks: append([]hcl.BlockHeaderSchema{{Type: "retry"}}, conditionBlocks...),
}

var retrySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "attempts", Required: true}, {Name: "backoff"}, {Name: "max_backoff"}},
}

var outputSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "value", Required: true}, {Name: "sensitive"}, {Name: "description"}},
}

// Load reads a workflow: one .hcl or .hcl.json file, or every such file in
// a folder (not its sub-folders), and checks its structure and references.
// The Config is returned even with errors, so that its files can be used to
// print the diagnostics.
func Load(path string) (*Config, hcl.Diagnostics) {
	c := newConfig("")
	files, dir, diags := workflowFiles(path)
	c.Dir, c.LuaDir = dir, dir
	if diags.HasErrors() {
		return c, diags
	}
	bodies, diags := c.parseFiles(files)
	if diags.HasErrors() {
		return c, diags
	}
	for _, f := range bodies {
		diags = append(diags, c.decodeFile(f.Body, false)...)
	}
	diags = append(diags, c.loadModules()...)
	diags = append(diags, c.checkReferences()...)
	return c, diags
}

// parseFiles parses workflow files, keeping them for diagnostics.
func (c *Config) parseFiles(files []string) ([]*hcl.File, hcl.Diagnostics) {
	p := hclparse.NewParser()
	var bodies []*hcl.File
	var diags hcl.Diagnostics
	for _, name := range files {
		var f *hcl.File
		var fd hcl.Diagnostics
		switch src, err := os.ReadFile(name); {
		case err != nil && strings.HasSuffix(name, ".json"):
			f, fd = p.ParseJSONFile(name) // for its diagnostic
		case err != nil:
			f, fd = p.ParseHCLFile(name)
		default:
			f, fd = parseSource(p, name, src)
		}
		diags = append(diags, fd...)
		if f != nil {
			exactLiterals(f)
			bodies = append(bodies, f)
		}
	}
	maps.Copy(c.files, p.Files())
	return bodies, diags
}

// LoadSource loads a workflow from one file's text, as Load does; filename
// is used in diagnostics and decides the syntax (.json or HCL), and dir is
// the folder file() reads from.
func LoadSource(filename string, src []byte, dir string) (*Config, hcl.Diagnostics) {
	c := newConfig(dir)
	p := hclparse.NewParser()
	f, diags := parseSource(p, filename, src)
	c.files = p.Files()
	if diags.HasErrors() {
		return c, diags
	}
	diags = append(diags, c.decodeFile(f.Body, false)...)
	diags = append(diags, c.loadModules()...)
	diags = append(diags, c.checkReferences()...)
	return c, diags
}

func newConfig(dir string) *Config {
	return &Config{Dir: dir, LuaDir: dir, files: map[string]*hcl.File{}, byKey: map[Address]any{}}
}

// parseSource parses one file's text: JSON when its name ends in .json,
// HCL otherwise. Every workflow, configuration and variables file goes
// through it, so that none reaches a parser nested deeper than MaxNesting.
func parseSource(p *hclparse.Parser, filename string, src []byte) (*hcl.File, hcl.Diagnostics) {
	if diags := CheckNesting(filename, src); diags.HasErrors() {
		p.AddFile(filename, &hcl.File{Bytes: src}) // for the diagnostics' snippets only
		return nil, diags
	}
	if strings.HasSuffix(filename, ".json") {
		return p.ParseJSON(src, filename)
	}
	f, diags := p.ParseHCL(src, filename)
	exactLiterals(f)
	return f, diags
}

// exactLiterals gives the number literals of an HCL file every digit (see
// ExactNumbers).
func exactLiterals(f *hcl.File) {
	if f == nil {
		return
	}
	if body, ok := f.Body.(*hclsyntax.Body); ok {
		ExactNumbers(body, f.Bytes)
	}
}

// workflowFiles lists the files of a workflow path and its folder.
func workflowFiles(path string) ([]string, string, hcl.Diagnostics) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, "", hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read the workflow",
			Detail:   fmt.Sprintf("%s: %s. Give a .hcl file or a folder of .hcl files.", path, pathErr(err)),
		}}
	}
	if !st.IsDir() {
		return []string{path}, filepath.Dir(path), nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, path, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read the workflow folder",
			Detail:   fmt.Sprintf("%s: %s.", path, pathErr(err)),
		}}
	}
	var files []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".") {
			continue
		}
		if (strings.HasSuffix(n, ".hcl") || strings.HasSuffix(n, ".hcl.json")) && !IsTestFile(n) {
			files = append(files, filepath.Join(path, n))
		}
	}
	if len(files) == 0 {
		return nil, path, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "No workflow files",
			Detail:   fmt.Sprintf("The folder %s holds no .hcl or .hcl.json files.", path),
		}}
	}
	slices.Sort(files)
	return files, path, nil
}

// decodeFile decodes the blocks of one file of a workflow. For the
// --config of a script run (configOnly) it decodes only the session,
// variable and locals blocks, and warns about the others.
func (c *Config) decodeFile(body hcl.Body, configOnly bool) hcl.Diagnostics {
	content, diags := body.Content(rootSchema)
	for _, b := range content.Blocks {
		if configOnly && b.Type != "session" && b.Type != "variable" && b.Type != "locals" {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Block ignored",
				Detail:   fmt.Sprintf("A script run uses only the session, variable and locals blocks of -config; this %s block is not run.", b.Type),
				Subject:  b.DefRange.Ptr(),
			})
			continue
		}
		switch b.Type {
		case "variable":
			diags = append(diags, c.decodeVariable(b)...)
		case "locals":
			diags = append(diags, c.decodeLocals(b)...)
		case "session":
			diags = append(diags, c.decodeSession(b)...)
		case "call":
			diags = append(diags, c.decodeCall(b)...)
		case "script":
			diags = append(diags, c.decodeScript(b)...)
		case "upload":
			diags = append(diags, c.decodeUpload(b)...)
		case "output":
			diags = append(diags, c.decodeOutput(b)...)
		case "check":
			diags = append(diags, c.decodeCheck(b)...)
		case "module":
			diags = append(diags, c.decodeModule(b)...)
		}
	}
	return diags
}

// declareBlock declares decl, the thing block b declares, at addr and adds
// it to list; it returns b's content by schema, or nil when the name is
// taken, in which case the block is not decoded further.
func declareBlock[T any](c *Config, list *[]*T, decl *T, addr Address, b *hcl.Block, schema *hcl.BodySchema) (*hcl.BodyContent, hcl.Diagnostics) {
	diags := c.declare(addr, decl, b.DefRange)
	if diags.HasErrors() {
		return nil, diags
	}
	*list = append(*list, decl)
	content, d := b.Body.Content(schema)
	return content, append(diags, d...)
}

// declare records a declaration, rejecting a second one of the same name.
func (c *Config) declare(addr Address, decl any, rng hcl.Range) hcl.Diagnostics {
	if prev, ok := c.byKey[addr]; ok {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Duplicate " + declNoun(addr.Kind),
			Detail:   fmt.Sprintf("%s is already declared at %s. Names must be unique within a workflow.", addr, declRange(prev)),
			Subject:  rng.Ptr(),
		}}
	}
	if !isIdentifier(addr.Name) {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid name",
			Detail:   fmt.Sprintf("%q is not a valid name: use letters, digits, underscores and dashes, starting with a letter or an underscore.", addr.Name),
			Subject:  rng.Ptr(),
		}}
	}
	c.byKey[addr] = decl
	return nil
}

func declNoun(k Kind) string {
	switch k {
	case KindVariable:
		return "variable"
	case KindLocal:
		return "local value"
	case KindSession:
		return "session"
	case KindCall:
		return "call"
	case KindScript:
		return "script"
	case KindUpload:
		return "upload"
	case KindOutput:
		return "output"
	case KindCheck:
		return "check"
	case KindModule:
		return "module"
	}
	return string(k)
}

func declRange(decl any) hcl.Range {
	switch d := decl.(type) {
	case *Variable:
		return d.DeclRange
	case *Local:
		return d.DeclRange
	case *Session:
		return d.DeclRange
	case *Step:
		return d.DeclRange
	case *Output:
		return d.DeclRange
	case *Check:
		return d.DeclRange
	case *ModuleCall:
		return d.DeclRange
	}
	return hcl.Range{}
}

func (c *Config) decodeVariable(b *hcl.Block) hcl.Diagnostics {
	v := &Variable{Name: b.Labels[0], Type: cty.DynamicPseudoType, DeclRange: b.DefRange}
	content, diags := declareBlock(c, &c.Variables, v, Address{Kind: KindVariable, Name: v.Name}, b, variableSchema)
	if content == nil {
		return diags
	}
	if a, ok := content.Attributes["type"]; ok {
		ty, defaults, d := typeexpr.TypeConstraintWithDefaults(a.Expr)
		diags = append(diags, d...)
		if !d.HasErrors() {
			v.Type, v.Defaults = ty, defaults
		}
	}
	if a, ok := content.Attributes["description"]; ok {
		s, d := staticString(a)
		diags = append(diags, d...)
		v.Description = s
	}
	if a, ok := content.Attributes["sensitive"]; ok {
		s, d := staticBool(a)
		diags = append(diags, d...)
		v.Sensitive = s
	}
	if a, ok := content.Attributes["default"]; ok {
		val, d := a.Expr.Value(nil)
		if d.HasErrors() {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid default value",
				Detail:   "A default must be a constant value: it may not refer to other objects or call functions.",
				Subject:  a.Expr.Range().Ptr(),
			})
		} else {
			conv, err := ConvertVariable(v, val)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid default value",
					Detail:   fmt.Sprintf("The default does not match the type of var.%s: %s.", v.Name, err),
					Subject:  a.Expr.Range().Ptr(),
				})
			} else {
				v.Default = conv
			}
		}
	}
	for _, vb := range content.Blocks {
		vc, d := vb.Body.Content(validationSchema)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		v.Validations = append(v.Validations, &Validation{
			Condition:    vc.Attributes["condition"].Expr,
			ErrorMessage: vc.Attributes["error_message"].Expr,
			DeclRange:    vb.DefRange,
		})
	}
	return diags
}

// ConvertVariable converts a value given for v to v's type, filling the
// defaults of optional attributes, and marks it when v is sensitive.
func ConvertVariable(v *Variable, val cty.Value) (cty.Value, error) {
	if v.Defaults != nil {
		val = v.Defaults.Apply(val)
	}
	conv, err := convert.Convert(val, v.Type)
	if err != nil {
		return cty.NilVal, err
	}
	if v.Sensitive {
		conv = Sensitive(conv)
	}
	return conv, nil
}

func (c *Config) decodeLocals(b *hcl.Block) hcl.Diagnostics {
	attrs, diags := b.Body.JustAttributes()
	// Keep the written order, so plans and graphs are stable.
	for _, a := range SortedAttributes(attrs) {
		l := &Local{Name: a.Name, Expr: a.Expr, DeclRange: a.Range}
		d := c.declare(Address{Kind: KindLocal, Name: a.Name}, l, a.NameRange)
		diags = append(diags, d...)
		if !d.HasErrors() {
			c.Locals = append(c.Locals, l)
		}
	}
	return diags
}

func (c *Config) decodeSession(b *hcl.Block) hcl.Diagnostics {
	s := &Session{Name: b.Labels[0], DeclRange: b.DefRange}
	content, diags := declareBlock(c, &c.Sessions, s, Address{Kind: KindSession, Name: s.Name}, b, sessionSchema)
	if content == nil {
		return diags
	}
	s.Attrs = content.Attributes
	if a, ok := s.Attrs["circuit"]; ok {
		v, d := staticString(a)
		diags = append(diags, d...)
		if !d.HasErrors() && !slices.Contains([]string{"auto", "server", "client", "app"}, v) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid circuit",
				Detail:   fmt.Sprintf("circuit is %q; use \"auto\", \"server\", \"client\" or \"app\".", v),
				Subject:  a.Expr.Range().Ptr(),
			})
		}
	}
	return diags
}

func (c *Config) decodeCall(b *hcl.Block) hcl.Diagnostics {
	st := &Step{Addr: Address{Kind: KindCall, Name: b.Labels[0]}, Kind: StepCall, Call: &Call{}, DeclRange: b.DefRange}
	content, diags := declareBlock(c, &c.Steps, st, st.Addr, b, callSchema)
	if content == nil {
		return diags
	}
	var d hcl.Diagnostics
	call := st.Call
	if a, ok := content.Attributes["method"]; ok {
		call.Method, d = staticString(a)
		diags = append(diags, d...)
		call.MethodRange = a.Expr.Range()
		if !d.HasErrors() && !strings.Contains(call.Method, ".") {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid method name",
				Detail:   fmt.Sprintf("%q is not a method name: ok.ru methods are written group.method, as in \"users.getInfo\". See okru-run methods.", call.Method),
				Subject:  a.Expr.Range().Ptr(),
			})
		}
	}
	if a, ok := content.Attributes["params"]; ok {
		call.Params = a.Expr
	}
	if a, ok := content.Attributes["session"]; ok {
		call.Session, d = staticString(a)
		diags = append(diags, d...)
		call.SessionRange = a.Expr.Range()
	}
	if a, ok := content.Attributes["paginate"]; ok {
		call.Paginate, d = staticBool(a)
		diags = append(diags, d...)
	}
	if a, ok := content.Attributes["unlisted"]; ok {
		call.Unlisted, d = staticBool(a)
		diags = append(diags, d...)
	}
	diags = append(diags, c.decodeStepMeta(st, content)...)
	return diags
}

// decodeStepMeta decodes the meta-arguments every kind of step shares.
func (c *Config) decodeStepMeta(st *Step, content *hcl.BodyContent) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if a, ok := content.Attributes["for_each"]; ok {
		st.ForEach = a.Expr
	}
	if a, ok := content.Attributes["when"]; ok {
		st.When = a.Expr
	}
	if a, ok := content.Attributes["timeout"]; ok {
		d, dd := staticDuration(a)
		diags = append(diags, dd...)
		st.Timeout = d
	}
	if a, ok := content.Attributes["depends_on"]; ok {
		var d hcl.Diagnostics
		st.DependsOn, d = decodeDependsOn(a)
		diags = append(diags, d...)
	}
	diags = append(diags, decodeStepConditions(st, content)...)
	for _, rb := range content.Blocks {
		if rb.Type != "retry" {
			continue
		}
		if st.Retry != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate retry block",
				Detail:   fmt.Sprintf("%s already has a retry block at %s.", st.Addr, st.Retry.DeclRange),
				Subject:  rb.DefRange.Ptr(),
			})
			continue
		}
		r, d := decodeRetry(rb)
		diags = append(diags, d...)
		st.Retry = r
	}
	return diags
}

// decodeDependsOn reads a depends_on list: steps and modules by address,
// without quotes.
func decodeDependsOn(a *hcl.Attribute) ([]Reference, hcl.Diagnostics) {
	exprs, diags := hcl.ExprList(a.Expr)
	var refs []Reference
	for _, e := range exprs {
		tr, d := hcl.AbsTraversalForExpr(e)
		if d.HasErrors() || len(tr) != 2 {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid depends_on",
				Detail:   "depends_on lists steps and modules by address, without quotes, as in depends_on = [call.login].",
				Subject:  e.Range().Ptr(),
			})
			continue
		}
		addr, ok := dependsOnAddress(tr)
		if !ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid depends_on",
				Detail:   fmt.Sprintf("depends_on may list only steps (call.NAME, script.NAME or upload.NAME) and modules (module.NAME), not %s.", traversalString(tr)),
				Subject:  e.Range().Ptr(),
			})
			continue
		}
		refs = append(refs, Reference{Addr: addr, Traversal: tr, Range: e.Range()})
	}
	return refs, diags
}

func decodeRetry(b *hcl.Block) (*Retry, hcl.Diagnostics) {
	r := &Retry{Attempts: 1, DeclRange: b.DefRange}
	content, diags := b.Body.Content(retrySchema)
	if a, ok := content.Attributes["attempts"]; ok {
		v, d := a.Expr.Value(nil)
		n, err := staticInt(v)
		if d.HasErrors() || err != nil || n < 1 || n > 100 {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid attempts",
				Detail:   "attempts must be a whole number from 1 to 100: the total number of tries, the first one included.",
				Subject:  a.Expr.Range().Ptr(),
			})
		} else {
			r.Attempts = n
		}
	}
	if a, ok := content.Attributes["backoff"]; ok {
		d, dd := staticDuration(a)
		diags = append(diags, dd...)
		if d > 0 {
			r.Backoff = d
		}
	}
	if a, ok := content.Attributes["max_backoff"]; ok {
		d, dd := staticDuration(a)
		diags = append(diags, dd...)
		if d > 0 {
			r.MaxBackoff = d
		}
	}
	if r.MaxBackoff != 0 && r.MaxBackoff < r.Backoff {
		r.MaxBackoff = r.Backoff
	}
	return r, diags
}

func (c *Config) decodeOutput(b *hcl.Block) hcl.Diagnostics {
	o := &Output{Name: b.Labels[0], DeclRange: b.DefRange}
	content, diags := declareBlock(c, &c.Outputs, o, Address{Kind: KindOutput, Name: o.Name}, b, outputSchema)
	if content == nil {
		return diags
	}
	if a, ok := content.Attributes["value"]; ok {
		o.Value = a.Expr
	}
	var d hcl.Diagnostics
	if a, ok := content.Attributes["sensitive"]; ok {
		o.Sensitive, d = staticBool(a)
		diags = append(diags, d...)
	}
	if a, ok := content.Attributes["description"]; ok {
		o.Description, d = staticString(a)
		diags = append(diags, d...)
	}
	return diags
}

// staticValue evaluates an attribute that must be known before anything
// runs, so it may not refer to anything.
func staticValue(a *hcl.Attribute, ty cty.Type, what string) (cty.Value, hcl.Diagnostics) {
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		return cty.NilVal, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid " + a.Name,
			Detail:   fmt.Sprintf("%s must be a literal %s: it is read before anything is evaluated, so it may not refer to variables, results or functions.", a.Name, what),
			Subject:  a.Expr.Range().Ptr(),
		}}
	}
	conv, err := convert.Convert(v, ty)
	if err != nil || conv.IsNull() {
		return cty.NilVal, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid " + a.Name,
			Detail:   fmt.Sprintf("%s must be a %s.", a.Name, what),
			Subject:  a.Expr.Range().Ptr(),
		}}
	}
	return conv, nil
}

func staticString(a *hcl.Attribute) (string, hcl.Diagnostics) {
	v, diags := staticValue(a, cty.String, "string")
	if diags.HasErrors() {
		return "", diags
	}
	return v.AsString(), nil
}

func staticBool(a *hcl.Attribute) (bool, hcl.Diagnostics) {
	v, diags := staticValue(a, cty.Bool, "bool (true or false)")
	if diags.HasErrors() {
		return false, diags
	}
	return v.True(), nil
}

func staticDuration(a *hcl.Attribute) (time.Duration, hcl.Diagnostics) {
	s, diags := staticString(a)
	if diags.HasErrors() {
		return 0, diags
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid " + a.Name,
			Detail:   fmt.Sprintf("%q is not a positive duration; write it as \"500ms\", \"30s\" or \"2m\".", s),
			Subject:  a.Expr.Range().Ptr(),
		}}
	}
	return d, nil
}

func staticInt(v cty.Value) (int, error) {
	v, err := convert.Convert(v, cty.Number)
	if err != nil || v.IsNull() || !v.IsKnown() {
		return 0, fmt.Errorf("not a number")
	}
	f := v.AsBigFloat()
	if !f.IsInt() || !f.IsInt() {
		return 0, fmt.Errorf("not a whole number")
	}
	i, acc := f.Int64()
	if acc != 0 || i > 1<<31 || i < -(1<<31) {
		return 0, fmt.Errorf("out of range")
	}
	return int(i), nil
}
