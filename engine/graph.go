package engine

import (
	"container/heap"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/lang"
	"github.com/okru-run/okru-run/lang/lua"
	"github.com/okru-run/okru-run/okru"
	"github.com/zclconf/go-cty/cty"
)

// node is one vertex of the workflow graph: a variable, local, session,
// step or output.
type node struct {
	addr  lang.Address
	index int     // declaration order, for stable output
	deps  []*node // what the node needs, each once
	users []*node // the nodes that need this one
	refs  []lang.Reference
	rng   hcl.Range

	variable *lang.Variable
	local    *lang.Local
	session  *lang.Session
	step     *lang.Step
	output   *lang.Output
	check    *lang.Check // see assert.go
	input    *inputNode  // a variable of a module instance (see module.go)
	module   *moduleNode // module.NAME

	// scope is the workflow or module instance the node belongs to; refIn
	// is where its references are resolved: the same, but the calling
	// scope for a module's input.
	scope, refIn *scope

	sess   *node       // the session node a step calls with (a script's default session)
	script *lua.Script // the compiled Lua of a script step
	// upstream are the steps whose results the node's value waits for,
	// directly or through locals.
	upstream []lang.Address
}

// Workflow is a checked workflow, ready to plan, run or draw. It is
// immutable and may be planned and run many times, also concurrently.
type Workflow struct {
	cfg   *lang.Config
	nodes []*node // declaration order
	order []*node // dependencies first; ties in declaration order
	// libs are the Lua libraries of the workflow: what scripts require
	// and the functions expressions call as lua::NAME. moduleLibs are
	// those of each module, from its own lua folder: a module's
	// expressions and scripts use only them.
	libs       *lua.Libraries
	moduleLibs map[*lang.Config]*lua.Libraries
	root       *scope // the workflow's own declarations; modules are below it
	// dynamic says a module has a for_each: Plan and Run build the graph
	// again with their inputs (see bind). forEachDiags are what evaluating
	// the for_each of modules found: all that is new when the graph is
	// built again, the rest having been reported by Compile.
	dynamic      bool
	forEachDiags hcl.Diagnostics
}

// LuaFunctions returns the functions the workflow's Lua libraries declare,
// for a lang.Scope outside the engine (variable validations, test
// asserts), so that lua:: means the same everywhere.
func (w *Workflow) LuaFunctions() lang.LuaFunctions { return w.libs }

// Config returns the workflow's configuration.
func (w *Workflow) Config() *lang.Config { return w.cfg }

// Compile builds the graph of cfg and checks what can be checked without
// evaluating: every session named exists, every method is in the catalog
// (or the call says unlisted = true), parameters are known to the catalog
// (a warning otherwise), sessions do not depend on results, and there is no
// cycle. cfg must have loaded without errors. A module with for_each has
// one placeholder instance until Plan or Run are given the inputs.
func Compile(cfg *lang.Config) (*Workflow, hcl.Diagnostics) {
	return build(context.Background(), cfg, nil, nil)
}

// build builds the graph; with in, the instances of modules with
// for_each are those in gives. from is the workflow built before from the
// same cfg, whose Lua libraries are reused (already loaded), or nil.
func build(ctx context.Context, cfg *lang.Config, in *Inputs, from *Workflow) (w *Workflow, diags hcl.Diagnostics) {
	w = &Workflow{cfg: cfg, dynamic: hasDynamicModules(cfg)}
	if from != nil {
		w.libs, w.moduleLibs = from.libs, from.moduleLibs
	} else {
		w.libs = lua.NewLibraries(cfg.LuaDir, cfg.LuaPath...)
		w.moduleLibs = map[*lang.Config]*lua.Libraries{}
		addModuleLibraries(cfg, cfg.LuaPath, w.moduleLibs)
		diags = append(diags, w.checkLibraries()...)
	}
	w.root = &scope{cfg: cfg, libs: w.libs, each: cty.NilVal, nodes: map[lang.Address]*node{}, sessions: map[string]*node{}}
	var st *staticEval
	if in != nil {
		st = newStaticEval(ctx, w, *in)
	}
	diags = append(diags, w.instantiate(w.root, st)...)
	defer func() {
		if from != nil {
			diags = w.forEachDiags // the same files gave the rest to Compile
		} else {
			diags = append(diags, w.forEachDiags...)
		}
	}()
	for _, n := range w.nodes {
		for _, r := range n.refs {
			if r.Addr.Kind == lang.KindEach {
				continue
			}
			dep := n.refIn.nodes[r.Addr]
			if dep == nil {
				continue
			}
			// module.NAME.OUT waits for that output only, so that two
			// modules may use each other's independent outputs.
			if outs, ok := dep.module.outputsNamed(r.Traversal); ok && n.module == nil {
				for _, o := range outs {
					link(n, o)
				}
				continue
			}
			link(n, dep)
		}
		switch {
		case n.step != nil:
			for _, r := range n.step.DependsOn {
				for _, dep := range w.dependsOnNodes(n.scope, r.Addr) {
					link(n, dep)
				}
			}
			diags = append(diags, w.bindSession(n)...)
			diags = append(diags, checkCall(n.step)...)
			diags = append(diags, w.compileScript(n)...)
		case n.module != nil:
			w.linkModule(n)
		}
	}
	cycles := w.cycles()
	diags = append(diags, cycles...)
	if !cycles.HasErrors() {
		w.order = w.topoOrder()
		w.findUpstream()
		diags = append(diags, w.checkSessionsStatic()...)
	}
	return w, diags
}

func link(n, dep *node) {
	if slices.Contains(n.deps, dep) {
		return
	}
	n.deps = append(n.deps, dep)
	dep.users = append(dep.users, n)
}

// bindSession finds the session a step calls with, among those of its
// scope (in a module, the caller's sessions passed in).
func (w *Workflow) bindSession(n *node) hcl.Diagnostics {
	var name string
	var rng hcl.Range
	switch st := n.step; {
	case st.Call != nil:
		name, rng = st.Call.Session, st.Call.SessionRange
	case st.Upload != nil:
		name, rng = st.Upload.Session, st.Upload.SessionRange
	default:
		return nil
	}
	sessions := n.scope.cfg.Sessions
	var names []string
	for _, x := range sessions {
		names = append(names, x.Name)
	}
	if name != "" {
		if n.scope.cfg.Session(name) == nil {
			detail := fmt.Sprintf("%s names session %q, which is not declared.", n.addr.Local(), name)
			if len(names) > 0 {
				detail += " Declared sessions: " + strings.Join(quoteAll(names), ", ") + "."
			} else {
				detail += " Declare one with a session block."
			}
			return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Missing session", Detail: detail, Subject: rng.Ptr()}}
		}
	} else {
		switch len(sessions) {
		case 0:
			detail := fmt.Sprintf("%s needs a session to call with, and the workflow declares none. Add a session block with app_key and credentials, e.g. session \"main\" { app_key = env(\"OKRU_APP_KEY\") ... }.", n.addr.Local())
			if !n.scope.top() {
				detail = fmt.Sprintf("%s needs a session to call with, and its module declares none. Declare the session the module needs with a block, session \"main\" {}: the workflow that uses the module passes one of its own.", n.addr.Local())
			}
			return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Missing session", Detail: detail, Subject: n.rng.Ptr()}}
		case 1:
			name = sessions[0].Name
		default:
			return hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Missing session",
				Detail:   fmt.Sprintf("The workflow declares several sessions (%s), so %s must say which one it uses, e.g. session = %q.", strings.Join(quoteAll(names), ", "), n.addr.Local(), names[0]),
				Subject:  n.rng.Ptr(),
			}}
		}
	}
	// nil when a module's session could not be passed in: reported then.
	if n.sess = n.scope.sessions[name]; n.sess != nil {
		link(n, n.sess)
	}
	return nil
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// reservedParams are sent by the client itself; a workflow must not set them.
var reservedParams = []string{"application_key", "sig", "access_token", "session_key", "format", "method"}

// checkCall checks a call's method and parameters against the catalog.
func checkCall(st *lang.Step) hcl.Diagnostics {
	call := st.Call
	if call == nil || call.Method == "" || !strings.Contains(call.Method, ".") {
		return nil
	}
	var diags hcl.Diagnostics
	m, known := okru.LookupMethod(call.Method)
	if !known && !call.Unlisted {
		detail := fmt.Sprintf("%q is not in okru-run's method catalog.", call.Method)
		if s := okru.Suggest(call.Method); len(s) > 0 {
			detail += fmt.Sprintf(" Did you mean %q?", s[0])
		}
		detail += " See okru-run methods for the list; if the method exists but is missing from the catalog, set unlisted = true in this call."
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown method", Detail: detail, Subject: call.MethodRange.Ptr()})
	}
	if call.Paginate && known && m.Paging == okru.PagingNone {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Method does not page",
			Detail:   fmt.Sprintf("paginate = true, but %s takes no anchor: the catalog lists it without paging. Remove paginate.", call.Method),
			Subject:  call.MethodRange.Ptr(),
		})
	}
	diags = append(diags, checkRequiredStatic(call)...)
	if call.Params == nil {
		return diags
	}
	pairs, d := hcl.ExprMap(call.Params)
	if d.HasErrors() {
		return diags // not an object constructor: checked when evaluated
	}
	for _, p := range pairs {
		key := hcl.ExprAsKeyword(p.Key)
		if key == "" {
			v, d := p.Key.Value(nil)
			if d.HasErrors() || v.Type() != cty.String || v.IsNull() || !v.IsKnown() {
				continue
			}
			key = v.AsString()
		}
		switch {
		case slices.Contains(reservedParams, key):
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Reserved parameter",
				Detail:   fmt.Sprintf("%s is set by the session when the call is signed; remove it from params.", key),
				Subject:  p.Key.Range().Ptr(),
			})
		case known && !m.HasParam(key) && !commonParam(key):
			detail := fmt.Sprintf("The catalog does not list a parameter %q for %s.", key, call.Method)
			if len(m.Params) > 0 {
				detail += " Known parameters: " + strings.Join(m.Params, ", ") + "."
			}
			detail += " It is sent anyway."
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Unknown parameter", Detail: detail, Subject: p.Key.Range().Ptr()})
		}
	}
	return diags
}

// commonParam reports parameters every method accepts.
func commonParam(k string) bool { return k == "call_id" || k == "__online" }

// cycles reports every strongly connected component with more than one
// node, or a node that needs itself, naming every member.
func (w *Workflow) cycles() hcl.Diagnostics {
	index := make([]int, len(w.nodes))
	low := make([]int, len(w.nodes))
	on := make([]bool, len(w.nodes))
	for i := range index {
		index[i] = -1
	}
	var stack []*node
	var diags hcl.Diagnostics
	next := 0
	// Tarjan's algorithm, iteratively: generated workflows can be deep.
	type frame struct {
		n *node
		i int
	}
	for _, root := range w.nodes {
		if index[root.index] >= 0 {
			continue
		}
		frames := []frame{{root, 0}}
		index[root.index], low[root.index] = next, next
		next++
		stack = append(stack, root)
		on[root.index] = true
		for len(frames) > 0 {
			f := &frames[len(frames)-1]
			if f.i < len(f.n.deps) {
				d := f.n.deps[f.i]
				f.i++
				if index[d.index] < 0 {
					index[d.index], low[d.index] = next, next
					next++
					stack = append(stack, d)
					on[d.index] = true
					frames = append(frames, frame{d, 0})
				} else if on[d.index] {
					low[f.n.index] = min(low[f.n.index], index[d.index])
				}
				continue
			}
			n := f.n
			frames = frames[:len(frames)-1]
			if len(frames) > 0 {
				p := frames[len(frames)-1].n
				low[p.index] = min(low[p.index], low[n.index])
			}
			if low[n.index] != index[n.index] {
				continue
			}
			var comp []*node
			for {
				m := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				on[m.index] = false
				comp = append(comp, m)
				if m == n {
					break
				}
			}
			if len(comp) > 1 || slices.Contains(n.deps, n) {
				diags = append(diags, cycleDiag(comp))
			}
		}
	}
	return diags
}

// cycleDiag describes a cycle by walking it from its first-declared member.
func cycleDiag(comp []*node) *hcl.Diagnostic {
	slices.SortFunc(comp, func(a, b *node) int { return a.index - b.index })
	in := map[*node]bool{}
	for _, n := range comp {
		in[n] = true
	}
	start := comp[0]
	// Breadth-first search for the shortest way back to start.
	prev := map[*node]*node{}
	queue := []*node{start}
	var last *node
	for len(queue) > 0 && last == nil {
		n := queue[0]
		queue = queue[1:]
		for _, d := range n.deps {
			if !in[d] {
				continue
			}
			if d == start {
				last = n
				break
			}
			if _, seen := prev[d]; !seen {
				prev[d] = n
				queue = append(queue, d)
			}
		}
	}
	path := []string{start.addr.String()}
	var back []string
	for n := last; n != nil && n != start; n = prev[n] {
		back = append(back, n.addr.String())
	}
	slices.Reverse(back)
	path = append(path, back...)
	path = append(path, start.addr.String())
	// Dependencies point backwards: "a needs b" is written a → b.
	detail := fmt.Sprintf("These objects depend on each other, so none can be evaluated first: %s (each needs the next).", strings.Join(path, " → "))
	if len(comp) > len(path)-1 {
		var all []string
		for _, n := range comp {
			all = append(all, n.addr.String())
		}
		detail += " Every object in the cycle: " + strings.Join(all, ", ") + "."
	}
	for _, n := range comp {
		if n.session != nil {
			detail += " Sessions are set up before any call, so a session cannot use a call's result."
			break
		}
	}
	detail += " Remove one of the references or depends_on entries."
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Dependency cycle", Detail: detail, Subject: start.rng.Ptr()}
}

// topoOrder orders the nodes so that every node comes after what it needs,
// and otherwise in declaration order.
func (w *Workflow) topoOrder() []*node {
	pending := make([]int, len(w.nodes))
	h := &nodeHeap{}
	for _, n := range w.nodes {
		pending[n.index] = len(n.deps)
		if len(n.deps) == 0 {
			heap.Push(h, n)
		}
	}
	order := make([]*node, 0, len(w.nodes))
	for h.Len() > 0 {
		n := heap.Pop(h).(*node)
		order = append(order, n)
		for _, u := range n.users {
			pending[u.index]--
			if pending[u.index] == 0 {
				heap.Push(h, u)
			}
		}
	}
	return order
}

type nodeHeap []*node

func (h nodeHeap) Len() int           { return len(h) }
func (h nodeHeap) Less(i, j int) bool { return h[i].index < h[j].index }
func (h nodeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *nodeHeap) Push(x any)        { *h = append(*h, x.(*node)) }
func (h *nodeHeap) Pop() any {
	old := *h
	n := old[len(old)-1]
	*h = old[:len(old)-1]
	return n
}

// findUpstream computes, in dependency order, the steps each node waits
// for, directly or through the values it uses. A node that gathers many
// (module.NAME of a module with thousands of instances) checks for
// repeats in a set, not in its list.
func (w *Workflow) findUpstream() {
	for _, n := range w.order {
		var seen map[lang.Address]bool
		add := func(a lang.Address) {
			if seen == nil && len(n.upstream) >= 16 {
				seen = make(map[lang.Address]bool, 2*len(n.upstream))
				for _, u := range n.upstream {
					seen[u] = true
				}
			}
			switch {
			case seen != nil:
				if seen[a] {
					return
				}
				seen[a] = true
			case slices.Contains(n.upstream, a):
				return
			}
			n.upstream = append(n.upstream, a)
		}
		for _, d := range n.deps {
			switch {
			case d.step != nil:
				add(d.addr)
			default: // locals, module inputs and outputs, module.NAME
				for _, a := range d.upstream {
					add(a)
				}
			}
		}
	}
}

// checkSessionsStatic rejects sessions that depend, through locals, on a
// step: sessions are built before the first call.
func (w *Workflow) checkSessionsStatic() hcl.Diagnostics {
	var diags hcl.Diagnostics
	dynamic := map[*node]lang.Address{} // node → a step it depends on
	for _, n := range w.order {
		if n.step != nil {
			dynamic[n] = n.addr
			continue
		}
		for _, d := range n.deps {
			if a, ok := dynamic[d]; ok {
				dynamic[n] = a
				break
			}
		}
		if a, ok := dynamic[n]; ok && n.session != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Session depends on a call",
				Detail:   fmt.Sprintf("%s depends on %s through a local value, but sessions are set up before any call is made. Use variables, env() or locals that do not use results.", n.addr, a),
				Subject:  n.rng.Ptr(),
			})
		}
	}
	return diags
}

// WriteDOT draws the graph in Graphviz DOT: an arrow goes from what a node
// needs to the node that needs it, so data flows along the arrows. Labels
// hold addresses and method names only, never values. Each module
// instance is a cluster; the instances of a module with for_each are those
// in gives it (one placeholder, module.NAME[*], when its for_each is not
// known from in). It draws nothing when in gives a module's for_each a
// value it cannot have, and returns the diagnostics.
func (w *Workflow) WriteDOT(out io.Writer, in Inputs) (hcl.Diagnostics, error) {
	w, diags := w.bind(context.Background(), in)
	if diags.HasErrors() {
		return diags, nil
	}
	var b strings.Builder
	b.WriteString("digraph workflow {\n  rankdir = \"LR\";\n  node [fontname = \"sans-serif\"];\n")
	w.writeScopeDOT(&b, w.root, "  ")
	for _, n := range w.nodes {
		for _, d := range n.deps {
			style := ""
			if n.step != nil && isDependsOn(n.step, d.addr.Local()) {
				style = " [style = \"dashed\"]"
			}
			fmt.Fprintf(&b, "  %s -> %s%s;\n", dotQuote(d.addr.String()), dotQuote(n.addr.String()), style)
		}
	}
	b.WriteString("}\n")
	_, err := io.WriteString(out, b.String())
	return diags, err
}

// writeScopeDOT writes the nodes of scope s, then each module instance
// inside it as a cluster.
func (w *Workflow) writeScopeDOT(b *strings.Builder, s *scope, indent string) {
	var inner []*scope
	for _, n := range w.nodes {
		if n.scope != s {
			continue
		}
		label := n.addr.String()
		shape := "box"
		switch {
		case n.variable != nil, n.input != nil:
			shape = "ellipse"
		case n.local != nil:
			shape = "note"
		case n.session != nil:
			shape = "component"
		case n.output != nil:
			shape = "cds"
		case n.module != nil:
			shape = "folder"
			inner = append(inner, n.module.instances...)
		case n.step != nil:
			label += "\\n" + n.step.Method()
			if n.step.ForEach != nil {
				label += " (for_each)"
				shape = "box3d"
			}
		}
		fmt.Fprintf(b, "%s%s [label = %s, shape = %s];\n", indent, dotQuote(n.addr.String()), dotQuote(label), dotQuote(shape))
	}
	for _, inst := range inner {
		fmt.Fprintf(b, "%ssubgraph %s {\n%s  label = %s;\n", indent, dotQuote("cluster_"+inst.prefix), indent, dotQuote(inst.prefix))
		w.writeScopeDOT(b, inst, indent+"  ")
		fmt.Fprintf(b, "%s}\n", indent)
	}
}

// dotQuote quotes a DOT identifier; \n escapes in labels are kept.
func dotQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

// isDependsOn reports whether a step's edge to addr comes only from
// depends_on, not from a reference.
func isDependsOn(st *lang.Step, addr lang.Address) bool {
	for _, r := range st.Refs {
		if r.Addr == addr {
			return false
		}
	}
	for _, r := range st.DependsOn {
		if r.Addr == addr {
			return true
		}
	}
	return false
}
