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
// whose values are literals or each.key and each.value:
//
//	params = { uids = each.value, fields = "first_name,last_name" }
//
// Evaluating that with HCL for every instance (twice: in the check before
// the first call and in the run) builds an evaluation context, an each
// object and the params object each time, which cost more CPU than the
// call's signing and encoding. A paramsTemplate is such params read once
// per step: the literals are evaluated once, and an instance's params are
// made from them and its each.key or each.value, giving the value HCL
// gives (the same cty.ObjectVal of the same attributes), and in a run its
// wire form and journal hash without making the value at all. Params of
// any other form are evaluated by HCL as before.

// paramsTemplate is a call's params of that form (see newParamsTemplate).
type paramsTemplate struct {
	attrs []templateAttr // by name, as cty orders an object's attributes
}

// Where a template's attribute takes its value from.
const (
	fromLiteral = iota
	fromEachKey
	fromEachValue
)

type templateAttr struct {
	name  string
	from  int
	value cty.Value // fromLiteral: the value
	// fromLiteral: what wireParam makes of value, and its canonical form
	// (appendCanonical) for the journal's hash.
	wire      string
	sent      bool
	wireErr   error
	canonical []byte
}

// newParamsTemplate reads params written as an object whose keys are
// literal strings and whose values are each a literal (no reference, no
// function call) or exactly each.key or each.value (also as "${...}").
// It returns nil for params of any other form, which HCL then evaluates.
func newParamsTemplate(params hcl.Expression) *paramsTemplate {
	obj, ok := params.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return nil
	}
	t := &paramsTemplate{attrs: make([]templateAttr, 0, len(obj.Items))}
	for _, item := range obj.Items {
		if !isLiteral(item.KeyExpr) {
			return nil
		}
		k, diags := item.KeyExpr.Value(nil)
		if diags.HasErrors() || len(diags) > 0 || k.IsMarked() || !k.IsKnown() || k.IsNull() || k.Type() != cty.String {
			return nil
		}
		a := templateAttr{name: cty.NormalizeString(k.AsString())}
		switch {
		case isEachRef(item.ValueExpr, "key"):
			a.from = fromEachKey
		case isEachRef(item.ValueExpr, "value"):
			a.from = fromEachValue
		case isLiteral(item.ValueExpr):
			v, diags := item.ValueExpr.Value(nil)
			if len(diags) > 0 || v.IsMarked() {
				return nil
			}
			a.from, a.value = fromLiteral, v
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

// isLiteral reports whether expr is made of literals only, so that its
// value is the same in any context: no reference, no function call.
func isLiteral(expr hcl.Expression) bool {
	switch e := expr.(type) {
	case *hclsyntax.LiteralValueExpr:
		return true
	case *hclsyntax.TemplateExpr:
		for _, p := range e.Parts {
			if _, ok := p.(*hclsyntax.LiteralValueExpr); !ok {
				return false
			}
		}
		return true
	case *hclsyntax.TemplateWrapExpr:
		return isLiteral(e.Wrapped)
	case *hclsyntax.ObjectConsKeyExpr:
		if e.ForceNonLiteral {
			return isLiteral(e.Wrapped)
		}
		// A bare name is the key itself; a dotted one is an error.
		if st, ok := e.Wrapped.(*hclsyntax.ScopeTraversalExpr); ok {
			return len(st.Traversal) == 1 && hcl.ExprAsKeyword(e.Wrapped) != ""
		}
		return isLiteral(e.Wrapped)
	case *hclsyntax.TupleConsExpr:
		for _, x := range e.Exprs {
			if !isLiteral(x) {
				return false
			}
		}
		return true
	case *hclsyntax.ObjectConsExpr:
		for _, item := range e.Items {
			if !isLiteral(item.KeyExpr) || !isLiteral(item.ValueExpr) {
				return false
			}
		}
		return true
	case *hclsyntax.UnaryOpExpr:
		return isLiteral(e.Val)
	}
	return false
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
		if a.from != fromLiteral {
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
		if a.from == fromLiteral {
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
