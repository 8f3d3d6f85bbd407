package lang

import (
	"fmt"
	"slices"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// refRules says which references an expression may hold.
type refRules struct {
	where     string // "a session", for messages
	steps     bool   // may refer to steps
	locals    bool   // may refer to locals
	each      bool   // may use each.key and each.value
	onlyVar   string // when set, may refer only to this variable
	forEachOf *Step  // the step whose for_each each refers to
	self      bool   // may use self.result (a postcondition)
}

// checkReferences resolves every reference of every expression against the
// declarations, reporting unknown names with a suggestion.
func (c *Config) checkReferences() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, v := range c.Variables {
		rules := refRules{where: "a variable validation", onlyVar: v.Name}
		for _, val := range v.Validations {
			_, d := c.references(val.Condition, rules)
			diags = append(diags, d...)
			_, d = c.references(val.ErrorMessage, rules)
			diags = append(diags, d...)
		}
	}
	for _, l := range c.Locals {
		var d hcl.Diagnostics
		l.Refs, d = c.references(l.Expr, refRules{where: "a local value", steps: true, locals: true})
		diags = append(diags, d...)
	}
	for _, s := range c.Sessions {
		for _, a := range SortedAttributes(s.Attrs) {
			refs, d := c.references(a.Expr, refRules{where: "a session", locals: true})
			diags = append(diags, d...)
			s.Refs = append(s.Refs, refs...)
		}
	}
	for _, st := range c.Steps {
		diags = append(diags, c.stepReferences(st)...)
	}
	for _, ch := range c.Checks {
		diags = append(diags, c.checkBlockReferences(ch)...)
	}
	for _, m := range c.Modules {
		diags = append(diags, c.moduleReferences(m)...)
	}
	for _, o := range c.Outputs {
		if o.Value == nil {
			continue
		}
		var d hcl.Diagnostics
		o.Refs, d = c.references(o.Value, refRules{where: "an output", steps: true, locals: true})
		diags = append(diags, d...)
	}
	return diags
}

func (c *Config) stepReferences(st *Step) hcl.Diagnostics {
	var diags hcl.Diagnostics
	add := func(e hcl.Expression, r refRules) {
		if e == nil {
			return
		}
		refs, d := c.references(e, r)
		diags = append(diags, d...)
		st.Refs = append(st.Refs, refs...)
	}
	base := refRules{where: "a step", steps: true, locals: true}
	add(st.ForEach, base)
	body := base
	if st.ForEach != nil {
		body.each, body.forEachOf = true, st
	}
	add(st.When, body)
	if st.Call != nil {
		add(st.Call.Params, body)
	}
	if st.Script != nil {
		add(st.Script.Input, body)
	}
	if st.Upload != nil {
		for _, name := range st.Upload.ArgNames() {
			if e := st.Upload.Args[name]; e != nil {
				add(e, body)
			}
		}
	}
	diags = append(diags, c.conditionReferences(st, body)...)
	diags = append(diags, c.dependsOnReferences(st.DependsOn)...)
	return diags
}

// dependsOnReferences checks that every step and module of a depends_on
// is declared.
func (c *Config) dependsOnReferences(refs []Reference) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, r := range refs {
		if _, ok := c.byKey[r.Addr]; !ok {
			diags = append(diags, c.undeclared(r.Addr, r.Range))
		}
	}
	return diags
}

// moduleReferences resolves the references of a module block: its
// for_each, and its inputs, which may use each when it has a for_each.
func (c *Config) moduleReferences(m *ModuleCall) hcl.Diagnostics {
	var diags hcl.Diagnostics
	base := refRules{where: "a module block", steps: true, locals: true}
	if m.ForEach != nil {
		var d hcl.Diagnostics
		m.ForEachRefs, d = c.references(m.ForEach, base)
		diags = append(diags, d...)
		base.each = true
	}
	for _, a := range SortedAttributes(m.Inputs) {
		refs, d := c.references(a.Expr, base)
		diags = append(diags, d...)
		m.InputRefs[a.Name] = refs
	}
	diags = append(diags, c.dependsOnReferences(m.DependsOn)...)
	for _, r := range m.DependsOn {
		if r.Addr == (Address{Kind: KindModule, Name: m.Name}) {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid depends_on",
				Detail: fmt.Sprintf("module.%s cannot depend on itself.", m.Name), Subject: r.Range.Ptr()})
		}
	}
	for module, caller := range m.Sessions {
		if m.Config != nil && m.Config.Session(module) == nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid sessions",
				Detail:  fmt.Sprintf("The module %s declares no session %q.%s", m.Source, module, sessionList(m.Config)),
				Subject: m.SessionsRange.Ptr()})
		}
		if c.Session(caller) == nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid sessions",
				Detail:  fmt.Sprintf("sessions passes session %q to module.%s, and this workflow declares no such session.%s", caller, m.Name, sessionList(c)),
				Subject: m.SessionsRange.Ptr()})
		}
	}
	return diags
}

func sessionList(c *Config) string {
	if len(c.Sessions) == 0 {
		return " It declares none."
	}
	var names []string
	for _, s := range c.Sessions {
		names = append(names, fmt.Sprintf("%q", s.Name))
	}
	return " Declared: " + strings.Join(names, ", ") + "."
}

// references returns the references of expr, checked against rules.
func (c *Config) references(expr hcl.Expression, rules refRules) ([]Reference, hcl.Diagnostics) {
	var refs []Reference
	var diags hcl.Diagnostics
	for _, tr := range expr.Variables() {
		ref, d := c.reference(tr, rules)
		diags = append(diags, d...)
		if !d.HasErrors() {
			refs = append(refs, ref)
		}
	}
	return refs, diags
}

func (c *Config) reference(tr hcl.Traversal, rules refRules) (Reference, hcl.Diagnostics) {
	rng := tr.SourceRange()
	root := tr.RootName()
	errf := func(summary, format string, args ...any) (Reference, hcl.Diagnostics) {
		return Reference{}, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  summary,
			Detail:   fmt.Sprintf(format, args...),
			Subject:  rng.Ptr(),
		}}
	}
	var kind Kind
	switch root {
	case "var":
		kind = KindVariable
	case "local":
		kind = KindLocal
	case "call":
		kind = KindCall
	case "script":
		kind = KindScript
	case "upload":
		kind = KindUpload
	case "each":
		kind = KindEach
	case "module":
		kind = KindModule
	case "self":
		return selfReference(tr, rules)
	default:
		return errf("Unknown reference", "%s%s", unknownRootDetail(root), c.rootSuggestion(root))
	}
	if len(tr) < 2 {
		return errf("Invalid reference", "%q must be followed by a name, as in %s.NAME.", root, root)
	}
	attr, ok := tr[1].(hcl.TraverseAttr)
	if !ok {
		return errf("Invalid reference", "%q must be followed by a dot and a name, as in %s.NAME.", root, root)
	}
	addr := Address{Kind: kind, Name: attr.Name}
	ref := Reference{Addr: addr, Traversal: tr, Range: rng}
	switch kind {
	case KindVariable:
		if rules.onlyVar != "" && attr.Name != rules.onlyVar {
			return errf("Invalid reference", "A validation of var.%s may refer only to var.%s.", rules.onlyVar, rules.onlyVar)
		}
		if c.Variable(attr.Name) == nil {
			return Reference{}, hcl.Diagnostics{c.undeclared(addr, rng)}
		}
	case KindLocal:
		if !rules.locals {
			return errf("Invalid reference", "local values cannot be used in %s.", rules.where)
		}
		if c.Local(attr.Name) == nil {
			return Reference{}, hcl.Diagnostics{c.undeclared(addr, rng)}
		}
	case KindCall, KindScript, KindUpload:
		if !rules.steps {
			return errf("Invalid reference", "%s cannot refer to %s results: it is evaluated before any step runs.", capitalize(rules.where), kind)
		}
		st := c.Step(addr)
		if st == nil {
			return Reference{}, hcl.Diagnostics{c.undeclared(addr, rng)}
		}
		if len(tr) > 2 {
			next, isAttr := tr[2].(hcl.TraverseAttr)
			switch {
			case st.ForEach != nil && isAttr:
				return errf("Invalid reference", "%s uses for_each, so it holds one result per instance: write %s[KEY].result for one instance or %s[*].result for all of them, in order.", addr, addr, addr)
			case st.ForEach == nil && isAttr && next.Name != "result":
				return errf("Unsupported attribute", "%s has no attribute %q; its value is %s.result.", addr, next.Name, addr)
			case st.ForEach == nil && !isAttr:
				return errf("Invalid reference", "%s has no for_each, so it cannot be indexed; its value is %s.result.", addr, addr)
			}
		}
	case KindModule:
		if !rules.steps {
			return errf("Invalid reference", "%s cannot refer to module outputs: it is evaluated before any step runs.", capitalize(rules.where))
		}
		m := c.Module(attr.Name)
		if m == nil {
			return Reference{}, hcl.Diagnostics{c.undeclared(addr, rng)}
		}
		if d := m.checkTraversal(tr); d != nil {
			return Reference{}, hcl.Diagnostics{d}
		}
	case KindEach:
		if !rules.each {
			if rules.where == "a module block" {
				return errf("Invalid reference", "each is available in a module block only when it has a for_each.")
			}
			if rules.where == "a step" {
				return errf("Invalid reference", "each is available only in the params (or input) and when of a step with for_each.")
			}
			return errf("Invalid reference", "each is available only in the params (or input) and when of a step with for_each, not in %s.", rules.where)
		}
		if attr.Name != "key" && attr.Name != "value" {
			return errf("Invalid reference", "each has only each.key and each.value%s.", suggestion(attr.Name, []string{"key", "value"}, "each."))
		}
	}
	return ref, nil
}

func unknownRootDetail(root string) string {
	return fmt.Sprintf("There is nothing called %q: references start with var., local., call., script., upload., module. or each.", root)
}

// rootSuggestion helps with a forgotten prefix (members.result for
// call.members.result) or a misspelt one (vars.x).
func (c *Config) rootSuggestion(root string) string {
	for _, k := range []Kind{KindCall, KindScript, KindUpload, KindModule, KindLocal, KindVariable} {
		if _, ok := c.byKey[Address{Kind: k, Name: root}]; ok {
			return fmt.Sprintf(" Did you mean %s.%s?", k, root)
		}
	}
	return suggestion(root, []string{"var", "local", "call", "script", "upload", "module", "each"}, "")
}

// undeclared builds the diagnostic for a reference to a name nobody
// declared, with the closest declared name as a suggestion.
func (c *Config) undeclared(addr Address, rng hcl.Range) *hcl.Diagnostic {
	var names []string
	for k := range c.byKey {
		if k.Kind == addr.Kind {
			names = append(names, k.Name)
		}
	}
	slices.Sort(names)
	detail := fmt.Sprintf("No %s %q is declared.", declNoun(addr.Kind), addr.Name)
	if s := suggestion(addr.Name, names, string(addr.Kind)+"."); s != "" {
		detail += s
	} else if addr.Kind == KindVariable {
		detail += fmt.Sprintf(" Declare it with a block: variable %q { type = string }.", addr.Name)
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Reference to undeclared " + declNoun(addr.Kind),
		Detail:   detail,
		Subject:  rng.Ptr(),
	}
}

// suggestion returns " Did you mean PREFIXname?" for the candidate closest to
// name, or "" when none is close.
func suggestion(name string, candidates []string, prefix string) string {
	best, bestDist := "", len(name)/2+2
	for _, c := range candidates {
		d := levenshtein.Distance(strings.ToLower(name), strings.ToLower(c), nil)
		if d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %s%s?", prefix, best)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// dependsOnAddress returns the step or module a two-part traversal such
// as call.login or module.posts names.
func dependsOnAddress(tr hcl.Traversal) (Address, bool) {
	if len(tr) != 2 || !(Address{Kind: Kind(tr.RootName())}).IsStep() && tr.RootName() != string(KindModule) {
		return Address{}, false
	}
	attr, ok := tr[1].(hcl.TraverseAttr)
	if !ok {
		return Address{}, false
	}
	return Address{Kind: Kind(tr.RootName()), Name: attr.Name}, true
}

// traversalString renders a traversal as written, e.g. call.x.result[0].
func traversalString(tr hcl.Traversal) string {
	var b strings.Builder
	for _, step := range tr {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			b.WriteString(s.Name)
		case hcl.TraverseAttr:
			b.WriteString("." + s.Name)
		case hcl.TraverseIndex:
			b.WriteString("[")
			if s.Key.Type() == cty.String {
				b.WriteString(QuoteString(s.Key.AsString()))
			} else if s.Key.Type() == cty.Number {
				b.WriteString(NumberText(s.Key.AsBigFloat()))
			} else {
				b.WriteString("...")
			}
			b.WriteString("]")
		case hcl.TraverseSplat:
			b.WriteString("[*]")
		}
	}
	return b.String()
}

// SortedAttributes returns a block's attributes in the order they were
// written.
func SortedAttributes(attrs map[string]*hcl.Attribute) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b *hcl.Attribute) int {
		if a.Range.Filename != b.Range.Filename {
			return strings.Compare(a.Range.Filename, b.Range.Filename)
		}
		return a.Range.Start.Byte - b.Range.Start.Byte
	})
	return out
}
