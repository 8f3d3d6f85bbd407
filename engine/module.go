package engine

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/lang"
	"github.com/okru-run/okru-run/lang/lua"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// Modules join the graph of the workflow that uses them: every instance of
// a module block is a scope holding its own nodes (its variables, locals,
// steps, checks and outputs) under addresses prefixed by the instance,
// module.posts["news"].call.post. Nothing else in the engine knows of
// modules: plans, runs, the journal, shards and events see steps with
// longer addresses. A module's variables are nodes evaluated from the
// inputs of its block in the calling scope, so a step inside waits only
// for the calls its inputs use; module.NAME is a node that gathers the
// outputs of every instance.
//
// The instances of a module with for_each are made when the graph is
// built, so its for_each must be known before any call: it may use
// variables, locals and functions, not results. Compile, which has no
// inputs, makes one placeholder instance, module.NAME[*]; Plan and Run
// build the graph again with the inputs they are given (see bind).

// scope is the top workflow or one instance of a module block.
type scope struct {
	cfg    *lang.Config
	prefix string // the instance's address: "" at the top, module.posts["news"]
	parent *scope
	call   *lang.ModuleCall // the module block; nil at the top
	// each is what the inputs of the module block see as each, for an
	// instance of a module with for_each; cty.NilVal otherwise.
	each  cty.Value
	nodes map[lang.Address]*node // by the address expressions use
	// sessions are the session nodes the scope's steps call with, by the
	// names the scope's workflow gives them: its own at the top, the
	// caller's, passed in, in a module.
	sessions map[string]*node
	outputs  []*node
	// libs are the Lua libraries its expressions and scripts use: the
	// workflow's, or the module's own.
	libs *lua.Libraries
	// shardID decides which shard of a sharded run runs the scope: that of
	// the outermost module instance with a for_each key around it (see
	// ShardID), "" when none is. Every node of such an instance runs in
	// its shard only, and its steps' instances are not split again.
	shardID string
}

// top reports whether the scope is the workflow itself.
func (s *scope) top() bool { return s.parent == nil }

// moduleNode is the node module.NAME: the instances of one module block,
// whose value gathers their outputs.
type moduleNode struct {
	call      *lang.ModuleCall
	keying    keying
	keys      []cty.Value // each.key of every instance
	values    []cty.Value // each.value of every instance, with for_each
	instances []*scope
	pending   bool // for_each not known yet: one placeholder instance
}

// inputNode is a variable of a module instance: its value is the input
// the module block sets, evaluated in the calling scope, or its default.
type inputNode struct {
	v    *lang.Variable
	attr *hcl.Attribute // nil: the default
}

// instantiate adds to w the nodes of scope s, then the instances of its
// module blocks, recursively. st evaluates the for_each of module blocks;
// it is nil when there are no inputs yet (Compile).
func (w *Workflow) instantiate(s *scope, st *staticEval) hcl.Diagnostics {
	var diags hcl.Diagnostics
	cfg := s.cfg
	add := func(n *node) *node {
		n.scope, n.refIn = s, s
		n.addr.Module = s.prefix
		n.index = len(w.nodes)
		w.nodes = append(w.nodes, n)
		s.nodes[n.addr.Local()] = n
		return n
	}
	for _, v := range cfg.Variables {
		n := &node{addr: lang.Address{Kind: lang.KindVariable, Name: v.Name}, variable: v, rng: v.DeclRange}
		if !s.top() {
			in := &inputNode{v: v, attr: s.call.Inputs[v.Name]}
			n.variable, n.input = nil, in
			if in.attr != nil {
				n.refs = s.call.InputRefs[v.Name]
				n.rng = in.attr.Range
			}
		}
		add(n)
		if !s.top() {
			n.refIn = s.parent
		}
	}
	for _, l := range cfg.Locals {
		add(&node{addr: lang.Address{Kind: lang.KindLocal, Name: l.Name}, local: l, refs: l.Refs, rng: l.DeclRange})
	}
	if s.top() {
		for _, ss := range cfg.Sessions {
			s.sessions[ss.Name] = add(&node{addr: lang.Address{Kind: lang.KindSession, Name: ss.Name}, session: ss, refs: ss.Refs, rng: ss.DeclRange})
		}
	} else {
		diags = append(diags, passSessions(s)...)
	}
	for _, step := range cfg.Steps {
		add(&node{addr: step.Addr, step: step, refs: step.Refs, rng: step.DeclRange})
	}
	for _, ch := range cfg.Checks {
		add(&node{addr: lang.Address{Kind: lang.KindCheck, Name: ch.Name}, check: ch, refs: ch.Refs, rng: ch.DeclRange})
	}
	for _, o := range cfg.Outputs {
		n := add(&node{addr: lang.Address{Kind: lang.KindOutput, Name: o.Name}, output: o, refs: o.Refs, rng: o.DeclRange})
		s.outputs = append(s.outputs, n)
	}
	for _, m := range cfg.Modules {
		if m.Config == nil {
			continue
		}
		mn := &moduleNode{call: m}
		// The for_each references only draw the graph: the instances are
		// made from them before any node is evaluated.
		n := add(&node{addr: lang.Address{Kind: lang.KindModule, Name: m.Name}, module: mn, refs: m.ForEachRefs, rng: m.DeclRange})
		w.forEachDiags = append(w.forEachDiags, w.expandModule(s, n, st)...)
		for i, k := range mn.keys {
			inst := &scope{cfg: m.Config, parent: s, call: m, each: cty.NilVal, libs: w.moduleLibs[m.Config],
				nodes: map[lang.Address]*node{}, sessions: map[string]*node{}}
			inst.prefix = InstanceName(n.addr, k)
			inst.shardID = s.shardID
			switch {
			case mn.pending:
				inst.each = cty.ObjectVal(map[string]cty.Value{"key": cty.DynamicVal, "value": cty.DynamicVal})
			case mn.keying != keyNone:
				inst.each = cty.ObjectVal(map[string]cty.Value{"key": k, "value": mn.values[i]})
				if inst.shardID == "" {
					inst.shardID = ShardID(k, mn.values[i])
				}
			}
			mn.instances = append(mn.instances, inst)
			diags = append(diags, w.instantiate(inst, st)...)
		}
	}
	return diags
}

// passSessions binds the sessions a module declares to its caller's: the
// one its block names in sessions, else the caller's of the same name,
// else the caller's only session.
func passSessions(s *scope) hcl.Diagnostics {
	var diags hcl.Diagnostics
	caller := s.parent
	for _, ss := range s.cfg.Sessions {
		name, named := s.call.Sessions[ss.Name]
		var sn *node
		switch {
		case named:
			sn = caller.sessions[name]
		case caller.sessions[ss.Name] != nil:
			sn = caller.sessions[ss.Name]
		case len(caller.sessions) == 1:
			for _, only := range caller.sessions {
				sn = only
			}
		default:
			var names []string
			for n := range caller.sessions {
				names = append(names, fmt.Sprintf("%q", n))
			}
			slices.Sort(names)
			detail := fmt.Sprintf("module.%s needs a session %q, and the workflow that uses it has ", s.call.Name, ss.Name)
			if len(names) == 0 {
				detail += "none. Declare a session block, and the module uses it."
			} else {
				detail += fmt.Sprintf("several (%s) and none of that name. Say which one it runs with: sessions = { %s = %s }.", strings.Join(names, ", "), ss.Name, names[0])
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing session", Detail: detail, Subject: s.call.DeclRange.Ptr()})
		}
		if sn != nil {
			s.sessions[ss.Name] = sn
		}
	}
	return diags
}

// expandModule works out the instances of the module block of node n in
// scope s: one without for_each, one per element of a known for_each, one
// placeholder (module.NAME[*]) while the for_each is not known.
func (w *Workflow) expandModule(s *scope, n *node, st *staticEval) hcl.Diagnostics {
	mn := n.module
	m := mn.call
	if m.ForEach == nil {
		mn.keying, mn.keys = keyNone, []cty.Value{cty.NilVal}
		return nil
	}
	placeholder := func() {
		mn.keying, mn.keys, mn.pending = keyString, []cty.Value{cty.DynamicVal}, true
	}
	if st == nil {
		placeholder()
		return nil
	}
	st.forEach = m
	fe, diags := st.eval(s, m.ForEach, m.ForEachRefs, cty.NilVal)
	if diags.HasErrors() {
		placeholder()
		return diags
	}
	if lang.IsSensitive(fe) { // at most maxModuleInstances elements to look through
		placeholder()
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Sensitive for_each",
			Detail:  "for_each may not use sensitive values: instance keys are shown in plans and progress.",
			Subject: m.ForEach.Range().Ptr()}}
	}
	fe, _ = fe.UnmarkDeep()
	if !fe.IsWhollyKnown() {
		placeholder()
		return nil // a variable not given: validate and graph
	}
	bad := func(detail string) hcl.Diagnostics {
		placeholder()
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid for_each", Detail: detail, Subject: m.ForEach.Range().Ptr()}}
	}
	ty := fe.Type()
	switch {
	case fe.IsNull():
		return bad("for_each must be a list, a map, an object or a set of strings, not null.")
	case ty.IsListType() || ty.IsTupleType():
		mn.keying = keyIndex
	case ty.IsMapType() || ty.IsObjectType() || ty.IsSetType():
		mn.keying = keyString
	default:
		return bad(fmt.Sprintf("for_each must be a list, a map, an object or a set of strings, not %s.", ty.FriendlyName()))
	}
	if fe.LengthInt() > maxModuleInstances {
		return bad(fmt.Sprintf("for_each has %d elements; a module may have at most %d instances: each instance adds every step of the module to the graph. Use for_each on the module's steps for large batches.", fe.LengthInt(), maxModuleInstances))
	}
	i := 0
	for it := fe.ElementIterator(); it.Next(); i++ {
		k, v := it.Element()
		switch {
		case mn.keying == keyIndex:
			k = cty.NumberIntVal(int64(i))
		case ty.IsSetType():
			if v.Type() != cty.String {
				return bad("A set given to for_each must hold strings, which become each.key and each.value.")
			}
			k = v
		}
		if mn.keying == keyString {
			if key := k.AsString(); key == "" {
				return bad(fmt.Sprintf("for_each element %d has an empty key.", i))
			} else if r, ok := controlRune(key); ok {
				return bad(fmt.Sprintf("for_each key %s holds the control character %q.", lang.QuoteString(key), r))
			}
		}
		mn.keys = append(mn.keys, k)
		mn.values = append(mn.values, v)
	}
	return nil
}

// maxModuleInstances bounds the instances of one module block: every
// instance copies the module's nodes into the graph.
const maxModuleInstances = 10_000

// value gathers the outputs of the instances of a module a run has: an
// object of them without for_each, a tuple of such objects for a list, an
// object of them by key otherwise; unknown for a placeholder. The
// instances of other shards are left out of a sharded run's (sh).
func (mn *moduleNode) value(values []cty.Value, sh Shard) cty.Value {
	if mn.pending {
		return cty.DynamicVal
	}
	objs := make([]cty.Value, 0, len(mn.instances))
	var keys []cty.Value
	for i, inst := range mn.instances {
		if !sh.runs(inst) {
			continue
		}
		keys = append(keys, mn.keys[i])
		outs := make(map[string]cty.Value, len(inst.outputs))
		for _, o := range inst.outputs {
			v := values[o.index]
			if v == cty.NilVal {
				v = cty.DynamicVal
			}
			outs[o.addr.Name] = v
		}
		objs = append(objs, cty.ObjectVal(outs))
	}
	switch mn.keying {
	case keyNone:
		return objs[0]
	case keyIndex:
		if len(objs) == 0 {
			return cty.EmptyTupleVal
		}
		return cty.TupleVal(objs)
	}
	attrs := make(map[string]cty.Value, len(objs))
	for i, o := range objs {
		attrs[keys[i].AsString()] = o
	}
	return cty.ObjectVal(attrs)
}

// outputsNamed returns, for a reference to one output of the module
// (module.NAME.OUT, or module.NAME[KEY].OUT with for_each), that output's
// node in every instance; ok is false for a reference to the whole
// module, which waits for all its outputs (module.NAME itself).
func (mn *moduleNode) outputsNamed(tr hcl.Traversal) (outs []*node, ok bool) {
	if mn == nil || len(tr) < 3 {
		return nil, false
	}
	rest := tr[2:]
	if mn.call.ForEach != nil {
		if _, isIndex := rest[0].(hcl.TraverseIndex); !isIndex || len(rest) < 2 {
			return nil, false
		}
		rest = rest[1:]
	}
	name, isAttr := rest[0].(hcl.TraverseAttr)
	if !isAttr {
		return nil, false
	}
	for _, inst := range mn.instances {
		for _, o := range inst.outputs {
			if o.addr.Name == name.Name {
				outs = append(outs, o)
			}
		}
	}
	return outs, true
}

// linkModule makes module.NAME wait for the outputs of its instances, and
// every step inside them for what the module block's depends_on lists.
func (w *Workflow) linkModule(n *node) {
	for _, inst := range n.module.instances {
		for _, o := range inst.outputs {
			link(n, o)
		}
	}
	for _, r := range n.module.call.DependsOn {
		for _, dep := range w.dependsOnNodes(n.scope, r.Addr) {
			for _, step := range moduleSteps(n) {
				link(step, dep)
			}
		}
	}
}

// dependsOnNodes are what a depends_on entry in scope s waits for: the
// step it names, or every step of every instance of the module it names.
func (w *Workflow) dependsOnNodes(s *scope, addr lang.Address) []*node {
	dep := s.nodes[addr]
	switch {
	case dep == nil:
		return nil
	case dep.module != nil:
		return moduleSteps(dep)
	}
	return []*node{dep}
}

// moduleSteps lists the steps of every instance of module node n, those
// of the modules inside included.
func moduleSteps(n *node) []*node {
	var out []*node
	for _, inst := range n.module.instances {
		for _, d := range inst.nodes {
			switch {
			case d.step != nil:
				out = append(out, d)
			case d.module != nil:
				out = append(out, moduleSteps(d)...)
			}
		}
	}
	slices.SortFunc(out, func(a, b *node) int { return a.index - b.index })
	return out
}

// addModuleLibraries makes the Lua libraries of every module of cfg, from
// its own lua folder, then the folders of -lua-path (extra), once per
// module folder.
func addModuleLibraries(cfg *lang.Config, extra []string, out map[*lang.Config]*lua.Libraries) {
	for _, m := range cfg.Modules {
		if m.Config == nil || out[m.Config] != nil {
			continue
		}
		out[m.Config] = lua.NewLibraries(m.Config.LuaDir, extra...)
		addModuleLibraries(m.Config, extra, out)
	}
}

// allLibraries lists the workflow's libraries, then its modules', each
// once.
func (w *Workflow) allLibraries() []*lua.Libraries {
	out := []*lua.Libraries{w.libs}
	for _, cfg := range slices.SortedFunc(maps.Keys(w.moduleLibs), func(a, b *lang.Config) int { return strings.Compare(a.Dir, b.Dir) }) {
		out = append(out, w.moduleLibs[cfg])
	}
	return out
}

// hasDynamicModules reports whether a module block of cfg, or of a
// module inside, has a for_each: the graph then depends on the inputs.
func hasDynamicModules(cfg *lang.Config) bool {
	for _, m := range cfg.Modules {
		if m.ForEach != nil || (m.Config != nil && hasDynamicModules(m.Config)) {
			return true
		}
	}
	return false
}

// bind returns the workflow to plan or run with in: w itself, or, when a
// module has a for_each, w built again with the instances in gives.
func (w *Workflow) bind(ctx context.Context, in Inputs) (*Workflow, hcl.Diagnostics) {
	if !w.dynamic {
		return w, nil
	}
	bound, diags := build(ctx, w.cfg, &in, w)
	bound.dynamic = false // its instances are in's
	return bound, diags
}

// staticEval evaluates what the graph's shape depends on, the for_each of
// module blocks, from the inputs alone: variables, locals and functions,
// before any node is planned or run.
type staticEval struct {
	in    Inputs
	funcs map[*lua.Libraries]map[string]function.Function // by scope.libs
	memo  map[*scope]map[lang.Address]cty.Value
	busy  map[*scope]map[lang.Address]bool // being evaluated: a cycle, reported by Compile
	// forEach is the module block whose for_each is evaluated, and via
	// the variables and locals it is being evaluated through, for
	// messages.
	forEach *lang.ModuleCall
	via     []string
}

func newStaticEval(ctx context.Context, w *Workflow, in Inputs) *staticEval {
	return &staticEval{in: in, funcs: w.functions(ctx, in), memo: map[*scope]map[lang.Address]cty.Value{}, busy: map[*scope]map[lang.Address]bool{}}
}

// eval evaluates expr, whose references are refs, in scope s.
func (st *staticEval) eval(s *scope, expr hcl.Expression, refs []lang.Reference, each cty.Value) (cty.Value, hcl.Diagnostics) {
	vars := map[string]map[string]cty.Value{}
	var diags hcl.Diagnostics
	for _, r := range refs {
		var v cty.Value
		switch r.Addr.Kind {
		case lang.KindVariable, lang.KindLocal:
			var d hcl.Diagnostics
			v, d = st.value(s, r.Addr)
			diags = append(diags, d...)
		case lang.KindEach:
			continue
		default:
			through := ""
			if len(st.via) > 0 {
				through = " (through " + strings.Join(st.via, ", ") + ")"
			}
			return cty.DynamicVal, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid for_each",
				Detail: fmt.Sprintf("The for_each of module.%s decides which steps the workflow has, so it must be known before any call; it uses %s%s, which is known only as the workflow runs. Use variables, locals and functions, or put the for_each on the module's steps.",
					st.forEach.Name, r.Addr, through),
				Subject: st.forEach.ForEach.Range().Ptr()})
		}
		root := string(r.Addr.Kind)
		if vars[root] == nil {
			vars[root] = map[string]cty.Value{}
		}
		vars[root][r.Addr.Name] = v
	}
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{}, Functions: st.funcs[s.libs]}
	for root, m := range vars {
		ctx.Variables[root] = cty.ObjectVal(m)
	}
	if each != cty.NilVal {
		ctx.Variables["each"] = each
	}
	v, d := expr.Value(ctx)
	return v, append(diags, d...)
}

// value is the value of a variable or local of scope s.
func (st *staticEval) value(s *scope, addr lang.Address) (cty.Value, hcl.Diagnostics) {
	if v, ok := st.memo[s][addr]; ok {
		return v, nil
	}
	if st.busy[s][addr] {
		return cty.DynamicVal, nil
	}
	if st.busy[s] == nil {
		st.busy[s], st.memo[s] = map[lang.Address]bool{}, map[lang.Address]cty.Value{}
	}
	st.busy[s][addr] = true
	st.via = append(st.via, addr.String())
	defer func() {
		delete(st.busy[s], addr)
		st.via = st.via[:len(st.via)-1]
	}()
	v, diags := st.compute(s, addr)
	if !diags.HasErrors() { // else evaluated again, to report it for each for_each
		st.memo[s][addr] = v
	}
	return v, diags
}

func (st *staticEval) compute(s *scope, addr lang.Address) (cty.Value, hcl.Diagnostics) {
	if addr.Kind == lang.KindLocal {
		l := s.cfg.Local(addr.Name)
		if l == nil {
			return cty.DynamicVal, nil
		}
		return st.eval(s, l.Expr, l.Refs, cty.NilVal)
	}
	v := s.cfg.Variable(addr.Name)
	switch {
	case v == nil:
		return cty.DynamicVal, nil
	case s.top():
		if val, ok := st.in.Variables[addr.Name]; ok {
			return val, nil
		}
		return cty.UnknownVal(v.Type), nil
	}
	a := s.call.Inputs[addr.Name]
	if a == nil {
		return v.Default, nil
	}
	val, diags := st.eval(s.parent, a.Expr, s.call.InputRefs[addr.Name], s.each)
	if diags.HasErrors() {
		return cty.DynamicVal, diags
	}
	conv, err := lang.ConvertVariable(v, val)
	if err != nil {
		return cty.DynamicVal, nil // reported when the input node is evaluated
	}
	return conv, nil
}

// StepInfo names one step of a workflow's graph.
type StepInfo struct {
	Addr   lang.Address // with its module instance
	Method string
}

// Steps lists the steps a run with in has, in declaration order, those of
// every module instance included (a module with for_each has as many
// instances as in gives it).
func (w *Workflow) Steps(in Inputs) []StepInfo {
	bound, _ := w.bind(context.Background(), in) // the run reports the diagnostics
	var out []StepInfo
	for _, n := range bound.nodes {
		if n.step != nil {
			out = append(out, StepInfo{Addr: n.addr, Method: n.step.Method()})
		}
	}
	return out
}

// functions builds the functions of every scope's expressions, by the
// libraries their lua:: calls use; file() and the others read below the
// top workflow's folder in modules too.
func (w *Workflow) functions(ctx context.Context, in Inputs) map[*lua.Libraries]map[string]function.Function {
	out := map[*lua.Libraries]map[string]function.Function{}
	for _, libs := range w.allLibraries() {
		out[libs] = lang.Scope{Dir: w.cfg.Dir, Getenv: in.Getenv, Now: in.Now, Lua: libs, Context: ctx}.Functions()
	}
	return out
}
