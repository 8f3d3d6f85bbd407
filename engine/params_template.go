package engine

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/okru-run/okru-run/okru"
	"github.com/zclconf/go-cty/cty"
)

// A batch's params are nearly always an object written with literal keys
// whose values are each.key, each.value, or the same for every instance
// (a literal, a variable, a local):
//
//	params = { uids = each.value, fields = "first_name,last_name" }
//
// Evaluating that with HCL for every instance (twice: in the check before
// the first call and in the run) builds an evaluation context, an each
// object and the params object each time, which cost more CPU than the
// call's signing and encoding. A paramsTemplate is such params read once
// per expansion of the step: what is the same for every instance is
// evaluated once, in the step's context, and an instance's params are made
// from it and its each.key or each.value, giving the value HCL gives (the
// same cty.ObjectVal of the same attributes), and in a run its wire form
// and journal hash without making the value at all. Params of any other
// form are evaluated by HCL as before.

// paramsTemplate is a call's params of that form (see newParamsTemplate).
type paramsTemplate struct {
	attrs []templateAttr // by name, as cty orders an object's attributes
}

// Where a template's attribute takes its value from.
const (
	fromStep      = iota // the same for every instance of the step
	fromEachKey          // each.key
	fromEachValue        // each.value
)

type templateAttr struct {
	name  string
	from  int
	value cty.Value // fromStep: the value
	// fromStep: what wireParam makes of value, and its canonical form
	// (appendCanonical) for the journal's hash.
	wire      string
	sent      bool
	wireErr   error
	canonical []byte
}

// newParamsTemplate reads params written as an object whose keys are
// literal strings and whose values are each exactly each.key or each.value
// (also as "${...}"), or an expression that neither refers to each nor
// calls a function: its value is then the same for every instance, and is
// evaluated here, in ctx, the step's context. It returns nil for params of
// any other form, or when evaluating one of them gives a diagnostic: HCL
// then evaluates the params of every instance, and reports it.
func newParamsTemplate(params hcl.Expression, ctx *hcl.EvalContext) *paramsTemplate {
	obj, ok := params.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return nil
	}
	t := &paramsTemplate{attrs: make([]templateAttr, 0, len(obj.Items))}
	for _, item := range obj.Items {
		if !sameForAll(item.KeyExpr) || len(item.KeyExpr.Variables()) > 0 {
			return nil
		}
		k, diags := item.KeyExpr.Value(ctx)
		if len(diags) > 0 || k.IsMarked() || !k.IsKnown() || k.IsNull() || k.Type() != cty.String {
			return nil
		}
		a := templateAttr{name: cty.NormalizeString(k.AsString())}
		switch {
		case isEachRef(item.ValueExpr, "key"):
			a.from = fromEachKey
		case isEachRef(item.ValueExpr, "value"):
			a.from = fromEachValue
		case sameForAll(item.ValueExpr):
			v, diags := item.ValueExpr.Value(ctx)
			if len(diags) > 0 {
				return nil
			}
			a.from, a.value = fromStep, v
			a.wire, a.sent, a.wireErr = wireParam(a.name, v)
			a.canonical = appendCanonical(nil, v)
		default:
			return nil
		}
		t.attrs = append(t.attrs, a)
	}
	slices.SortFunc(t.attrs, func(a, b templateAttr) int { return strings.Compare(a.name, b.name) })
	for i := 1; i < len(t.attrs); i++ {
		if t.attrs[i].name == t.attrs[i-1].name {
			return nil // a repeated key: HCL keeps the last, leave it to HCL
		}
	}
	return t
}

// isEachRef reports whether expr is exactly each.NAME, or "${each.NAME}".
func isEachRef(expr hcl.Expression, name string) bool {
	if w, ok := expr.(*hclsyntax.TemplateWrapExpr); ok {
		expr = w.Wrapped
	}
	st, ok := expr.(*hclsyntax.ScopeTraversalExpr)
	if !ok || len(st.Traversal) != 2 {
		return false
	}
	root, ok := st.Traversal[0].(hcl.TraverseRoot)
	if !ok || root.Name != "each" {
		return false
	}
	attr, ok := st.Traversal[1].(hcl.TraverseAttr)
	return ok && attr.Name == name
}

// sameForAll reports whether expr has the same value for every instance
// of a step: it does not refer to each, which alone differs between them,
// and calls no function, as a function (timestamp, uuid, file) may give
// another value at each call.
func sameForAll(expr hcl.Expression) bool {
	syn, ok := expr.(hclsyntax.Expression)
	if !ok {
		return false
	}
	for _, tr := range syn.Variables() {
		if tr.RootName() == "each" {
			return false
		}
	}
	calls := false
	hclsyntax.VisitAll(syn, func(n hclsyntax.Node) hcl.Diagnostics {
		if _, ok := n.(*hclsyntax.FunctionCallExpr); ok {
			calls = true
		}
		return nil
	})
	return !calls
}

// attrValue is the value of attribute a for instance i of x.
func (a *templateAttr) attrValue(x *expanded, i int) cty.Value {
	switch a.from {
	case fromEachKey:
		return x.key(i)
	case fromEachValue:
		return x.values[i]
	}
	return a.value
}

// value is the params of instance i of x, as HCL evaluates them.
func (t *paramsTemplate) value(x *expanded, i int) cty.Value {
	attrs := make(map[string]cty.Value, len(t.attrs))
	for k := range t.attrs {
		a := &t.attrs[k]
		attrs[a.name] = a.attrValue(x, i)
	}
	return cty.ObjectVal(attrs)
}

// wire returns what wireParams and argsHash give for the params of
// instance i of x (the hash only when hash is true), without making them.
func (t *paramsTemplate) wire(x *expanded, i int, hash bool) (okru.Params, string, error) {
	p := make(okru.Params, len(t.attrs))
	for k := range t.attrs {
		a := &t.attrs[k]
		s, sent, err := a.wire, a.sent, a.wireErr
		if a.from != fromStep {
			s, sent, err = wireParam(a.name, a.attrValue(x, i))
		}
		if err != nil {
			return nil, "", err
		}
		if sent {
			p[a.name] = s
		}
	}
	if !hash {
		return p, "", nil
	}
	bp := canonicalBuf.Get().(*[]byte)
	b := append((*bp)[:0], '{')
	for k := range t.attrs {
		a := &t.attrs[k]
		b = binary.AppendUvarint(b, uint64(len(a.name)))
		b = append(b, a.name...)
		if a.from == fromStep {
			b = append(b, a.canonical...)
		} else {
			b = appendCanonical(b, a.attrValue(x, i))
		}
	}
	b = append(b, '}')
	sum := sha256.Sum256(b)
	if cap(b) <= 64<<10 {
		*bp = b
		canonicalBuf.Put(bp)
	}
	return p, hex.EncodeToString(sum[:16]), nil
}
