package lang

import (
	"fmt"
	"maps"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// EnvVarPrefix starts the environment variables that set workflow
// variables: OKRU_VAR_group_id sets var.group_id.
const EnvVarPrefix = "OKRU_VAR_"

// Inputs are the values given for variables from outside the workflow.
// Later sources win: defaults, then OKRU_VAR_<name> environment variables,
// then -var-file files in order, then -var flags in order.
type Inputs struct {
	Getenv   func(string) string // for OKRU_VAR_<name>; nil means none
	VarFiles []string            // files of name = value lines (.hcl or .json)
	Vars     []string            // name=value, as given to -var
	// Values are values already parsed, such as a test's variables
	// block (see TestRun), applied last; ValueRanges say where each was
	// written.
	Values      map[string]cty.Value
	ValueRanges map[string]hcl.Range
}

// ResolveVariables returns the value of every variable: given values are
// converted to the variable's type (a raw -var or environment value is a
// string for string variables and an HCL expression otherwise), sensitive
// ones are marked, and validation blocks are checked.
func (c *Config) ResolveVariables(in Inputs, scope Scope) (map[string]cty.Value, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	given := map[string]cty.Value{}
	ranges := map[string]hcl.Range{}
	if in.Getenv != nil {
		for _, v := range c.Variables {
			env := EnvVarPrefix + v.Name
			raw := in.Getenv(env)
			if raw == "" {
				continue
			}
			val, rng, d := c.rawValue(v, raw, "<environment "+env+">")
			diags = append(diags, d...)
			if !d.HasErrors() {
				given[v.Name], ranges[v.Name] = val, rng
			}
		}
	}
	for _, f := range in.VarFiles {
		vals, rngs, d := c.varFile(f)
		diags = append(diags, d...)
		for n, v := range vals {
			given[n], ranges[n] = v, rngs[n]
		}
	}
	for _, kv := range in.Vars {
		name, raw, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid -var option",
				Detail:   fmt.Sprintf("-var takes name=value, as in -var group_id=123; got %q.", kv),
			})
			continue
		}
		v := c.Variable(name)
		if v == nil {
			diags = append(diags, c.undeclaredInput(name, "-var"))
			continue
		}
		val, rng, d := c.rawValue(v, raw, "<value for var."+name+">")
		diags = append(diags, d...)
		if !d.HasErrors() {
			given[name], ranges[name] = val, rng
		}
	}
	for name, val := range in.Values {
		if c.Variable(name) == nil {
			d := c.undeclaredInput(name, "The run's variables block")
			if rng, ok := in.ValueRanges[name]; ok {
				d.Subject = &rng
			}
			diags = append(diags, d)
			continue
		}
		given[name], ranges[name] = val, in.ValueRanges[name]
	}
	if diags.HasErrors() {
		return nil, diags
	}

	out := make(map[string]cty.Value, len(c.Variables))
	for _, v := range c.Variables {
		val, ok := given[v.Name]
		if !ok {
			if v.Required() {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "No value for required variable",
					Detail: fmt.Sprintf("var.%s has no default and no value was given: set it with -var %s=VALUE, in a -var-file, or with the environment variable %s%s.",
						v.Name, v.Name, EnvVarPrefix, v.Name),
					Subject: v.DeclRange.Ptr(),
				})
				continue
			}
			out[v.Name] = v.Default
			continue
		}
		conv, err := ConvertVariable(v, val)
		if err != nil {
			rng := ranges[v.Name]
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid value for variable",
				Detail:   fmt.Sprintf("The value given for var.%s does not fit its type %s: %s.", v.Name, typeString(v.Type), err),
				Subject:  &rng,
			})
			continue
		}
		out[v.Name] = conv
	}
	if diags.HasErrors() {
		return nil, diags
	}
	diags = append(diags, c.validateVariables(out, scope)...)
	if diags.HasErrors() {
		return nil, diags
	}
	return out, diags
}

// UnknownVariables returns an unknown value of the right type for every
// variable, for checking a workflow without its inputs (validate).
func (c *Config) UnknownVariables() map[string]cty.Value {
	out := make(map[string]cty.Value, len(c.Variables))
	for _, v := range c.Variables {
		u := cty.UnknownVal(v.Type)
		if v.Sensitive {
			u = Sensitive(u)
		}
		out[v.Name] = u
	}
	return out
}

// DefaultVariables is UnknownVariables with the default of every variable
// that has one: what graph draws a workflow with.
func (c *Config) DefaultVariables() map[string]cty.Value {
	out := c.UnknownVariables()
	for _, v := range c.Variables {
		if !v.Required() {
			out[v.Name] = v.Default
		}
	}
	return out
}

// rawValue turns a value written on a command line or in the environment
// into a cty value: as is for string variables, parsed as an HCL
// expression for the others (lists, numbers, objects).
func (c *Config) rawValue(v *Variable, raw, source string) (cty.Value, hcl.Range, hcl.Diagnostics) {
	if !v.Sensitive {
		// A sensitive value must not be quoted back in a diagnostic.
		c.AddSource(source, []byte(raw))
	}
	rng := hcl.Range{Filename: source, Start: hcl.InitialPos, End: hcl.Pos{Line: 1, Column: len(raw) + 1, Byte: len(raw)}}
	if v.Type == cty.String || v.Type == cty.DynamicPseudoType {
		return cty.StringVal(raw), rng, nil
	}
	// A bare word (-var pin=abc) parses as a reference, which HCL refuses
	// with "Variables not allowed": say what the variable needs instead.
	if CheckNesting(source, []byte(raw)).HasErrors() {
		return cty.NilVal, rng, c.badRawValue(v, raw, rng)
	}
	expr, diags := hclsyntax.ParseExpression([]byte(raw), source, hcl.InitialPos)
	if diags.HasErrors() {
		return cty.NilVal, rng, c.badRawValue(v, raw, rng)
	}
	ExactNumbers(expr, []byte(raw))
	val, diags := expr.Value(nil)
	if diags.HasErrors() {
		return cty.NilVal, rng, c.badRawValue(v, raw, rng)
	}
	return val, rng, diags
}

// badRawValue reports a command-line or environment value that is not an
// HCL value, quoting it unless the variable is sensitive.
func (c *Config) badRawValue(v *Variable, raw string, rng hcl.Range) hcl.Diagnostics {
	detail := fmt.Sprintf("var.%s needs a %s; got %q.", v.Name, typeString(v.Type), raw)
	const most = 200
	if len(raw) > most {
		// A value refused for its size is quoted in part, not in megabytes.
		detail = fmt.Sprintf("var.%s needs a %s; got %q... (%d bytes in all).", v.Name, typeString(v.Type), strings.ToValidUTF8(raw[:most], ""), len(raw))
	}
	if v.Sensitive {
		detail = fmt.Sprintf("var.%s needs a %s; the value given is not one (not shown: the variable is sensitive).", v.Name, typeString(v.Type))
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Invalid value for variable",
		Detail:   detail,
		Subject:  rng.Ptr(),
	}}
}

// varFile reads a file of name = value attributes.
func (c *Config) varFile(path string) (map[string]cty.Value, map[string]hcl.Range, hcl.Diagnostics) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read the variables file",
			Detail:   fmt.Sprintf("%s: %s.", path, pathErr(err)),
		}}
	}
	p := hclparse.NewParser()
	f, diags := parseSource(p, path, src)
	maps.Copy(c.files, p.Files())
	if diags.HasErrors() {
		return nil, nil, diags
	}
	attrs, diags := f.Body.JustAttributes()
	vals := map[string]cty.Value{}
	ranges := map[string]hcl.Range{}
	for _, a := range SortedAttributes(attrs) {
		if c.Variable(a.Name) == nil {
			d := c.undeclaredInput(a.Name, path)
			d.Severity = hcl.DiagWarning
			d.Subject = a.NameRange.Ptr()
			diags = append(diags, d)
			continue
		}
		val, d := a.Expr.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() {
			vals[a.Name], ranges[a.Name] = val, a.Expr.Range()
		}
	}
	return vals, ranges, diags
}

func (c *Config) undeclaredInput(name, source string) *hcl.Diagnostic {
	var names []string
	for _, v := range c.Variables {
		names = append(names, v.Name)
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Value for undeclared variable",
		Detail:   fmt.Sprintf("%s sets %q, but the workflow declares no such variable.%s", source, name, suggestion(name, names, "")),
	}
}

// validateVariables runs every validation block against the values.
func (c *Config) validateVariables(vals map[string]cty.Value, scope Scope) hcl.Diagnostics {
	var diags hcl.Diagnostics
	funcs := scope.Functions()
	for _, v := range c.Variables {
		if len(v.Validations) == 0 {
			continue
		}
		ctx := &hcl.EvalContext{
			Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{v.Name: vals[v.Name]})},
			Functions: funcs,
		}
		for _, val := range v.Validations {
			diags = append(diags, checkValidation(v, val, ctx)...)
		}
	}
	return diags
}

func checkValidation(v *Variable, val *Validation, ctx *hcl.EvalContext) hcl.Diagnostics {
	cond, diags := val.Condition.Value(ctx)
	if diags.HasErrors() {
		return diags
	}
	cond, _ = cond.Unmark()
	if !cond.IsKnown() {
		return nil
	}
	if cond.IsNull() || cond.Type() != cty.Bool {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid validation condition",
			Detail:   "A validation condition must be true or false.",
			Subject:  val.Condition.Range().Ptr(),
		}}
	}
	if cond.True() {
		return nil
	}
	msg, d := val.ErrorMessage.Value(ctx)
	detail := fmt.Sprintf("var.%s is invalid.", v.Name)
	if !d.HasErrors() && msg.Type() == cty.String && msg.IsWhollyKnown() && !msg.IsNull() {
		if msg.IsMarked() {
			detail = fmt.Sprintf("var.%s is invalid (the error message depends on a sensitive value and is hidden).", v.Name)
		} else {
			detail = msg.AsString()
		}
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Invalid value for variable",
		Detail:   detail,
		Subject:  val.Condition.Range().Ptr(),
	}}
}

// typeString renders a type constraint as it is written in HCL.
func typeString(ty cty.Type) string {
	switch {
	case ty == cty.DynamicPseudoType:
		return "any"
	case ty.IsPrimitiveType():
		return ty.FriendlyName()
	case ty.IsListType():
		return "list(" + typeString(ty.ElementType()) + ")"
	case ty.IsSetType():
		return "set(" + typeString(ty.ElementType()) + ")"
	case ty.IsMapType():
		return "map(" + typeString(ty.ElementType()) + ")"
	}
	return ty.FriendlyName()
}
