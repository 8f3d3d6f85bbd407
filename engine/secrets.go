package engine

import (
	"context"

	"github.com/okru-run/okru-run/lang"
	"github.com/zclconf/go-cty/cty"
)

// Secrets returns the secret strings a run with these inputs handles: the
// credentials of every session, those in the environment (see
// lang.CredentialEnv) and the values of sensitive variables, those of
// modules included when they are known before any call. The
// CLI removes them from everything it prints, as a last line of defence
// behind the sensitive marks (which already keep them out of plans,
// outputs and diagnostics). The locals it evaluates may call lua::
// functions: ctx ending stops them, leaving those locals unknown, as the
// command is ending.
func (w *Workflow) Secrets(ctx context.Context, in Inputs) []string {
	w, _ = w.bind(ctx, in) // the run reports the diagnostics
	e := newEvaluator(ctx, w, in, true)
	var out []string
	// The credentials in the environment, used by a session or not: env()
	// of one is sensitive, and a server may echo it.
	if in.Getenv != nil {
		for _, name := range lang.CredentialEnv {
			if v := in.Getenv(name); v != "" {
				out = append(out, v)
			}
		}
	}
	for _, v := range w.cfg.Variables {
		if v.Sensitive {
			out = appendStrings(out, in.Variables[v.Name])
		}
	}
	static := make([]bool, len(w.nodes))
	for _, n := range w.order {
		ok := n.step == nil && n.output == nil
		for _, d := range n.deps {
			ok = ok && static[d.index]
		}
		static[n.index] = ok
		switch {
		case !ok:
		case n.local != nil:
			e.values[n.index], _ = e.evalLocal(n)
		case n.input != nil:
			// A module's sensitive variable: its default, or an input
			// known before any call.
			e.values[n.index], _ = e.evalInput(n)
			if n.input.v.Sensitive {
				out = appendStrings(out, e.values[n.index])
			}
		case n.session != nil:
			cfg, _ := e.evalSession(n)
			out = append(out, cfg.Secrets()...)
		}
	}
	return out
}

// appendStrings appends every known primitive inside v, as text.
func appendStrings(out []string, v cty.Value) []string {
	v, _ = v.UnmarkDeep()
	if v == cty.NilVal || !v.IsKnown() || v.IsNull() {
		return out
	}
	ty := v.Type()
	if ty.IsPrimitiveType() {
		s, ok, err := wireValue(v)
		if err == nil && ok {
			out = append(out, s)
		}
		return out
	}
	if ty.IsCollectionType() || ty.IsObjectType() || ty.IsTupleType() {
		for it := v.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			out = appendStrings(out, ev)
		}
	}
	return out
}
