package lang

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Assertions: the precondition and postcondition blocks of a step, and the
// top-level check blocks. They are declared here and evaluated by the
// engine: a precondition before an instance is called, a postcondition on
// its result (self.result), a check once the steps it refers to are done.

// KindCheck is the kind of a check block's address (check.NAME).
const KindCheck Kind = "check"

// KindSelf is the root of self.result, the result of the instance a
// postcondition is about.
const KindSelf Kind = "self"

// Condition is one precondition, postcondition or assert block.
type Condition struct {
	Kind         string // "precondition", "postcondition" or "assert"
	Condition    hcl.Expression
	ErrorMessage hcl.Expression
	DeclRange    hcl.Range
}

// Check is a check block: assertions about the results of a run that warn
// (or, with strict checks, fail the run) without stopping it.
type Check struct {
	Name      string
	Asserts   []*Condition
	Refs      []Reference
	DeclRange hcl.Range
}

// Check returns the check called name, or nil.
func (c *Config) Check(name string) *Check {
	v, _ := c.byKey[Address{Kind: KindCheck, Name: name}].(*Check)
	return v
}

// Bool converts the value of c's condition to true, false or (when it is
// known only later) an unknown bool, keeping its marks. A null, or a value
// of another type, known or not, is an "Invalid condition" error: a
// condition that can never be true or false is a mistake in the
// configuration, however it would be evaluated.
func (c *Condition) Bool(v cty.Value) (cty.Value, *hcl.Diagnostic) {
	uv, marks := v.UnmarkDeep()
	notBool := func(what string) (cty.Value, *hcl.Diagnostic) {
		return cty.UnknownVal(cty.Bool), &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid condition",
			Detail:  fmt.Sprintf("The condition of %s must be true or false, not %s.", conditionArticle(c.Kind), what),
			Subject: c.Condition.Range().Ptr()}
	}
	if !uv.IsKnown() {
		if ty := uv.Type(); ty != cty.DynamicPseudoType {
			if _, err := convert.Convert(cty.UnknownVal(ty), cty.Bool); err != nil {
				return notBool(ty.FriendlyName())
			}
		}
		return cty.UnknownVal(cty.Bool).WithMarks(marks), nil
	}
	if uv.IsNull() {
		return notBool("null")
	}
	b, err := convert.Convert(uv, cty.Bool)
	if err != nil {
		return notBool(uv.Type().FriendlyName())
	}
	return b, nil
}

// conditionArticle puts "a" or "an" before a block type.
func conditionArticle(kind string) string {
	if kind == "assert" {
		return "an assert block"
	}
	return "a " + kind
}

var conditionSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "condition", Required: true}, {Name: "error_message", Required: true}},
}

var checkSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{{Type: "assert"}},
}

// conditionBlocks are the assertion blocks a step accepts, for its schema.
var conditionBlocks = []hcl.BlockHeaderSchema{{Type: "precondition"}, {Type: "postcondition"}}

func decodeCondition(b *hcl.Block) (*Condition, hcl.Diagnostics) {
	content, diags := b.Body.Content(conditionSchema)
	if diags.HasErrors() {
		return nil, diags
	}
	return &Condition{
		Kind:         b.Type,
		Condition:    content.Attributes["condition"].Expr,
		ErrorMessage: content.Attributes["error_message"].Expr,
		DeclRange:    b.DefRange,
	}, diags
}

// decodeStepConditions decodes the precondition and postcondition blocks
// of a step.
func decodeStepConditions(st *Step, content *hcl.BodyContent) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, b := range content.Blocks {
		if b.Type != "precondition" && b.Type != "postcondition" {
			continue
		}
		cond, d := decodeCondition(b)
		diags = append(diags, d...)
		if cond == nil {
			continue
		}
		if b.Type == "precondition" {
			st.Preconditions = append(st.Preconditions, cond)
		} else {
			st.Postconditions = append(st.Postconditions, cond)
		}
	}
	return diags
}

func (c *Config) decodeCheck(b *hcl.Block) hcl.Diagnostics {
	ch := &Check{Name: b.Labels[0], DeclRange: b.DefRange}
	content, diags := declareBlock(c, &c.Checks, ch, Address{Kind: KindCheck, Name: ch.Name}, b, checkSchema)
	if content == nil {
		return diags
	}
	for _, ab := range content.Blocks {
		cond, d := decodeCondition(ab)
		diags = append(diags, d...)
		if cond != nil {
			ch.Asserts = append(ch.Asserts, cond)
		}
	}
	if len(ch.Asserts) == 0 && !diags.HasErrors() {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Empty check",
			Detail:   fmt.Sprintf("check %q has no assert block; add one: assert { condition = ..., error_message = \"...\" }.", ch.Name),
			Subject:  b.DefRange.Ptr(),
		})
	}
	return diags
}

// conditionReferences checks the references of a step's assertions and
// adds them to the step's: a precondition sees what the step's params see,
// a postcondition also self.result.
func (c *Config) conditionReferences(st *Step, body refRules) hcl.Diagnostics {
	var diags hcl.Diagnostics
	add := func(conds []*Condition, r refRules) {
		for _, cond := range conds {
			for _, e := range []hcl.Expression{cond.Condition, cond.ErrorMessage} {
				refs, d := c.references(e, r)
				diags = append(diags, d...)
				st.Refs = append(st.Refs, refs...)
			}
		}
	}
	pre := body
	pre.where = "a precondition"
	add(st.Preconditions, pre)
	post := body
	post.where, post.self = "a postcondition", true
	add(st.Postconditions, post)
	return diags
}

func (c *Config) checkBlockReferences(ch *Check) hcl.Diagnostics {
	var diags hcl.Diagnostics
	rules := refRules{where: "a check", steps: true, locals: true}
	for _, a := range ch.Asserts {
		for _, e := range []hcl.Expression{a.Condition, a.ErrorMessage} {
			refs, d := c.references(e, rules)
			diags = append(diags, d...)
			ch.Refs = append(ch.Refs, refs...)
		}
	}
	return diags
}

// selfReference checks a reference to self: only self.result, only in a
// postcondition.
func selfReference(tr hcl.Traversal, rules refRules) (Reference, hcl.Diagnostics) {
	rng := tr.SourceRange()
	bad := func(detail string) (Reference, hcl.Diagnostics) {
		return Reference{}, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid reference", Detail: detail, Subject: rng.Ptr()}}
	}
	if !rules.self {
		return bad(fmt.Sprintf("self is the result of the instance a postcondition checks: it is available only in a postcondition block, not in %s.", rules.where))
	}
	if len(tr) < 2 {
		return bad("self must be followed by .result, the instance's result, as in self.result.count.")
	}
	if a, ok := tr[1].(hcl.TraverseAttr); !ok || a.Name != "result" {
		return bad("self has only one attribute, result: write self.result.")
	}
	return Reference{Addr: Address{Kind: KindSelf}, Traversal: tr, Range: rng}, nil
}

// TraversalString renders a traversal as written, e.g. call.x.result[0],
// for messages that show the values an expression read.
func TraversalString(tr hcl.Traversal) string { return traversalString(tr) }
