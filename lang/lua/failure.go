package lua

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	glua "github.com/yuin/gopher-lua"
)

// This file finds where a script failed and what it called or indexed
// there. gopher-lua's errors for calling or indexing a non-function do not
// say what it was ("attempt to call a non-function object"), and its
// traceback is gone once PCall returns. So every run calls through
// protectedCall, which looks at the error while the failing frames are
// still on the stack: it records them, and decodes the failing instruction
// to name the called expression as the code wrote it (lg, o.cal, t:x).

// Position is a line of a script or of a library it required.
type Position struct {
	File string
	Line int
}

func (p Position) String() string { return p.File + ":" + strconv.Itoa(p.Line) }

// frame is one function on the stack at an error.
type frame struct {
	Position        // Line 0 for a Go function
	function string // as Lua's traceback names it
}

// failure is what protectedCall saw of an error.
type failure struct {
	frames []frame // innermost first
	// named replaces gopher-lua's message for calling or indexing a
	// non-function, non-table value; "" when the operand is unknown.
	named string
}

// protectedCall calls the function below the nargs arguments on the stack
// as PCall does, and turns an error into a *ScriptError.
//
// It is not PCall's message handler that looks at the error: PCall pushes
// the handler onto the value stack, which fails when the error is that the
// stack is full. A Go function between PCall and the script sees the panic
// that carries the error go by, before PCall unwinds the Lua stack, and
// needs no room on it.
func (r *runtime) protectedCall(nargs, nret int) error {
	r.failure = nil
	L := r.L
	watch := L.NewFunction(func(L *glua.LState) int {
		defer func() {
			if v := recover(); v != nil {
				r.failure = r.inspect(L, v)
				panic(v)
			}
		}()
		L.Call(L.GetTop()-1, nret)
		return L.GetTop()
	})
	L.Insert(watch, L.GetTop()-nargs)
	if err := L.PCall(nargs+1, nret, nil); err != nil {
		return r.scriptError(L.Context(), err)
	}
	return nil
}

// inspect records the stack and names the operand of a failed call or
// index. It runs while gopher-lua raises an error: should it fail itself,
// the error keeps gopher-lua's words.
func (r *runtime) inspect(L *glua.LState, v any) (f *failure) {
	defer func() {
		if recover() != nil {
			f = nil
		}
	}()
	f = &failure{frames: stack(L, 0)}
	aerr, ok := v.(*glua.ApiError)
	if !ok {
		return f
	}
	msg, ok := aerr.Object.(glua.LString)
	if !ok {
		return f
	}
	dbg, ok := L.GetStack(0)
	if !ok {
		return f
	}
	fnv, err := L.GetInfo("f", dbg, glua.LNil)
	fn, _ := fnv.(*glua.LFunction)
	if err != nil || fn == nil || fn.IsG {
		return f
	}
	_, text := cutPosition(string(msg), luaPositions(f.frames))
	f.named = (&operands{L: L, dbg: dbg, fn: fn}).name(framePC(dbg), text)
	return f
}

// stack lists the frames from level down, innermost first.
func stack(L *glua.LState, level int) []frame {
	var out []frame
	for ; ; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			return out
		}
		fv, err := L.GetInfo("Slnf", dbg, glua.LNil)
		fn, _ := fv.(*glua.LFunction)
		if err != nil || fn == nil {
			continue
		}
		if fn.IsG && dbg.What == "main" {
			// protectedCall's watcher, at the bottom of the stack; GetStack
			// also answers it for the levels a tail call removed.
			continue
		}
		fr := frame{function: dbg.Name}
		if !fn.IsG {
			fr.Position = Position{File: dbg.Source, Line: dbg.CurrentLine}
			if dbg.LineDefined == 0 {
				fr.function = "main chunk"
			}
		}
		out = append(out, fr)
	}
}

// luaPositions are the lines of the Lua frames, innermost first.
func luaPositions(frames []frame) []Position {
	var out []Position
	for _, f := range frames {
		if f.Line > 0 {
			out = append(out, f.Position)
		}
	}
	return out
}

// traceback writes frames as Lua's stack traceback does.
func traceback(frames []frame) string {
	var b strings.Builder
	b.WriteString("stack traceback:")
	for _, f := range frames {
		where := "[G]"
		if f.Line > 0 {
			where = f.Position.String()
		}
		fmt.Fprintf(&b, "\n\t%s: in %s", where, describeFunction(f.function))
	}
	return b.String()
}

func describeFunction(name string) string {
	switch {
	case name == "main chunk":
		return name
	case name == "" || name == "?":
		return "function <anonymous>"
	case strings.HasPrefix(name, "<") || strings.HasPrefix(name, "("):
		return "function " + name
	}
	return "function '" + name + "'"
}

// cutPosition splits "file:12: msg" as Lua writes runtime errors, for
// the file of one of at.
func cutPosition(s string, at []Position) (Position, string) {
	for _, p := range at {
		rest, ok := strings.CutPrefix(s, p.File+":")
		if !ok {
			continue
		}
		num, msg, ok := strings.Cut(rest, ": ")
		if line, err := strconv.Atoi(num); ok && err == nil && line > 0 {
			return Position{File: p.File, Line: line}, msg
		}
	}
	return Position{}, s
}

// framePC is the index of the instruction a Lua frame was running, -1 if
// unknown. gopher-lua keeps it in its unexported call frame and exposes
// only the line; reflect can read it without unsafe. TestNamedFailures
// fails should a gopher-lua upgrade move it.
func framePC(dbg *glua.Debug) int {
	fr := reflect.ValueOf(dbg).Elem().FieldByName("frame")
	if !fr.IsValid() || fr.Kind() != reflect.Pointer || fr.IsNil() {
		return -1
	}
	pc := fr.Elem().FieldByName("Pc")
	if !pc.IsValid() || !pc.CanInt() {
		return -1
	}
	return int(pc.Int()) - 1
}

// Lua 5.1 instruction fields, as gopher-lua encodes them.
func opcode(i uint32) int { return int(i >> 26) }
func argA(i uint32) int   { return int(i>>18) & 0xff }
func argB(i uint32) int   { return int(i & 0x1ff) }
func argC(i uint32) int   { return int(i>>9) & 0x1ff }
func argBx(i uint32) int  { return int(i & 0x3ffff) }

// rkConstant marks a B or C argument that is a constant, not a register.
const rkConstant = 1 << 8

const (
	callFailure  = "attempt to call a non-function object"
	indexFailure = "attempt to index a non-table object("
)

// operands names what the registers of one failing Lua frame held.
type operands struct {
	L   *glua.LState
	dbg *glua.Debug
	fn  *glua.LFunction
}

// operand is a value as the code wrote it.
type operand struct {
	name  string      // lg, o.cal, t[1], o:cal
	value glua.LValue // Go nil when unknown
	// For a field: the table it is read from and its key.
	owner     *glua.LTable
	ownerName string
	key       string
	method    bool // o:key
	// For a name: what else was in scope, for a suggestion.
	scope []string
}

// name rewrites msg, the error of the instruction at pc, to name its
// operand; "" when it cannot.
func (o *operands) name(pc int, msg string) string {
	code := o.fn.Proto.Code
	if pc < 0 || pc >= len(code) {
		return ""
	}
	inst := code[pc]
	switch op := opcode(inst); {
	case msg == callFailure && (op == glua.OP_CALL || op == glua.OP_TAILCALL):
		if x, ok := o.describe(argA(inst), pc, 0); ok {
			return notCallable(x)
		}
		if v := o.register(argA(inst)); v != nil {
			return "attempt to call a " + v.Type().String() + " value"
		}
	case msg == callFailure && op == glua.OP_TFORLOOP:
		what := "not a function"
		if v := o.register(argA(inst)); v != nil {
			what = kind(v) + ", not a function"
		}
		return "the iterator of this for loop is " + what + " (to loop over a table, use pairs(t) or ipairs(t))"
	case strings.HasPrefix(msg, indexFailure):
		reg := -1
		switch op {
		case glua.OP_GETTABLE, glua.OP_GETTABLEKS, glua.OP_SELF:
			reg = argB(inst)
		case glua.OP_SETTABLE, glua.OP_SETTABLEKS:
			reg = argA(inst)
		}
		if x, ok := o.describe(reg, pc, 0); reg >= 0 && ok {
			return notIndexable(x)
		}
	}
	return ""
}

// describe names what register reg held at instruction pc.
func (o *operands) describe(reg, pc, depth int) (operand, bool) {
	if depth > 8 {
		return operand{}, false
	}
	if name := o.localName(reg, pc); name != "" {
		return operand{name: name, value: o.register(reg), scope: o.scope(pc)}, true
	}
	at := o.writer(reg, pc)
	if at < 0 {
		return operand{}, false
	}
	p := o.fn.Proto
	inst := p.Code[at]
	switch opcode(inst) {
	case glua.OP_MOVE, glua.OP_MOVEN:
		return o.describe(argB(inst), at, depth+1)
	case glua.OP_GETGLOBAL:
		name, ok := p.Constants[argBx(inst)].(glua.LString)
		if !ok {
			return operand{}, false
		}
		x := operand{name: string(name), scope: o.scope(at)}
		if o.fn.Env != nil {
			x.value = o.fn.Env.RawGetString(string(name))
		}
		return x, true
	case glua.OP_GETUPVAL:
		b := argB(inst)
		if b >= len(p.DbgUpvalues) {
			return operand{}, false
		}
		x := operand{name: p.DbgUpvalues[b], scope: o.scope(at)}
		if b < len(o.fn.Upvalues) {
			x.value = o.fn.Upvalues[b].Value()
		}
		return x, true
	case glua.OP_GETTABLE, glua.OP_GETTABLEKS, glua.OP_SELF:
		if opcode(inst) == glua.OP_SELF && reg != argA(inst) {
			return o.describe(argB(inst), at, depth+1) // the self argument
		}
		owner, ok := o.describe(argB(inst), at, depth+1)
		if !ok {
			return operand{}, false
		}
		return o.field(owner, argC(inst), opcode(inst) == glua.OP_SELF)
	}
	return operand{}, false
}

// field is owner[RK(c)] for a constant key.
func (o *operands) field(owner operand, c int, method bool) (operand, bool) {
	if c&rkConstant == 0 {
		return operand{}, false
	}
	x := operand{ownerName: owner.name, method: method}
	switch k := o.fn.Proto.Constants[c&^rkConstant].(type) {
	case glua.LString:
		x.key = string(k)
		switch {
		case method:
			x.name = owner.name + ":" + x.key
		case isName(x.key):
			x.name = owner.name + "." + x.key
		default:
			x.name = fmt.Sprintf("%s[%q]", owner.name, x.key)
		}
	case glua.LNumber:
		x.name = fmt.Sprintf("%s[%s]", owner.name, k)
	default:
		return operand{}, false
	}
	if t := o.fieldsOf(owner.value); t != nil {
		x.owner = t
		x.value = rawIndex(t, o.fn.Proto.Constants[c&^rkConstant])
	}
	return x, true
}

// fieldsOf is the table whose fields v has: v itself, or for a string
// the string library its metatable leads to; nil when unknown.
func (o *operands) fieldsOf(v glua.LValue) *glua.LTable {
	switch v := v.(type) {
	case nil:
		return nil
	case *glua.LTable:
		return v
	}
	mt, ok := o.L.GetMetatable(v).(*glua.LTable)
	if !ok {
		return nil
	}
	t, _ := mt.RawGetString("__index").(*glua.LTable)
	return t
}

// writer finds the instruction before pc that last set register reg,
// -1 if none does. Like Lua's own symbolic execution it reads the code
// backwards in a straight line: what the callee of a call is comes just
// before the call.
func (o *operands) writer(reg, pc int) int {
	code := o.fn.Proto.Code
	// The pseudo-instructions after a CLOSURE describe its upvalues;
	// they do not run.
	skip := map[int]bool{}
	for i := 0; i < pc; i++ {
		if opcode(code[i]) == glua.OP_CLOSURE {
			n := int(o.fn.Proto.FunctionPrototypes[argBx(code[i])].NumUpvalues)
			for j := 1; j <= n; j++ {
				skip[i+j] = true
			}
			i += n
		}
	}
	for i := pc - 1; i >= 0; i-- {
		if !skip[i] && writes(code[i], reg) {
			return i
		}
	}
	return -1
}

// writes reports whether inst may set register reg.
func writes(inst uint32, reg int) bool {
	a := argA(inst)
	switch opcode(inst) {
	case glua.OP_MOVE, glua.OP_MOVEN, glua.OP_LOADK, glua.OP_LOADBOOL, glua.OP_GETUPVAL,
		glua.OP_GETGLOBAL, glua.OP_GETTABLE, glua.OP_GETTABLEKS, glua.OP_NEWTABLE,
		glua.OP_ADD, glua.OP_SUB, glua.OP_MUL, glua.OP_DIV, glua.OP_MOD, glua.OP_POW,
		glua.OP_UNM, glua.OP_NOT, glua.OP_LEN, glua.OP_CONCAT, glua.OP_TESTSET, glua.OP_CLOSURE:
		return reg == a
	case glua.OP_LOADNIL:
		return a <= reg && reg <= argB(inst)
	case glua.OP_SELF:
		return reg == a || reg == a+1
	case glua.OP_FORLOOP, glua.OP_FORPREP:
		return a <= reg && reg <= a+3
	case glua.OP_CALL, glua.OP_TFORLOOP, glua.OP_VARARG:
		return reg >= a
	}
	return false
}

// scope lists the names a name read at pc might have meant: the locals
// active there, the upvalues and the globals.
func (o *operands) scope(pc int) []string {
	names := o.locals(pc)
	names = append(names, o.fn.Proto.DbgUpvalues...)
	if o.fn.Env != nil {
		names = append(names, tableKeys(o.fn.Env)...)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// register is the value register reg holds now, Go nil when unknown.
func (o *operands) register(reg int) glua.LValue {
	if name, v := o.L.GetLocal(o.dbg, reg+1); name != "" {
		return v
	}
	return nil
}

// locals are the names of the locals active at instruction pc, by
// register. (LFunction.LocalName counts a local active only from the
// instruction after its first.)
func (o *operands) locals(pc int) []string {
	var names []string
	for _, l := range o.fn.Proto.DbgLocals {
		if l.StartPc <= pc && pc < l.EndPc {
			names = append(names, l.Name)
		}
	}
	return names
}

// localName is the name of the local in register reg at pc, "" for a
// temporary.
func (o *operands) localName(reg, pc int) string {
	if names := o.locals(pc); reg < len(names) {
		return names[reg]
	}
	return ""
}

// rawIndex is t[k], following __index tables but running no metamethod
// function: naming an error must not run script code.
func rawIndex(t *glua.LTable, k glua.LValue) glua.LValue {
	for range 8 {
		if v := t.RawGet(k); v != glua.LNil {
			return v
		}
		mt, ok := t.Metatable.(*glua.LTable)
		if !ok {
			return glua.LNil
		}
		switch next := mt.RawGetString("__index").(type) {
		case *glua.LTable:
			t = next
		case *glua.LNilType:
			return glua.LNil
		default:
			return nil // a function decides: unknown
		}
	}
	return nil
}

// fieldNames are the string keys of t and of the tables its __index
// leads to.
func fieldNames(t *glua.LTable) []string {
	var names []string
	for range 8 {
		names = append(names, tableKeys(t)...)
		mt, ok := t.Metatable.(*glua.LTable)
		if !ok {
			break
		}
		next, ok := mt.RawGetString("__index").(*glua.LTable)
		if !ok {
			break
		}
		t = next
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func isName(s string) bool {
	for i, c := range s {
		if c != '_' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return s != ""
}

// kind is "nil", "a table", "a string"... for messages.
func kind(v glua.LValue) string {
	if v == glua.LNil {
		return "nil"
	}
	t := v.Type().String()
	if strings.ContainsRune("aeiou", rune(t[0])) {
		return "an " + t
	}
	return "a " + t
}

// notCallable says what x is, having been called.
func notCallable(x operand) string {
	what := "function"
	if x.method {
		what = "method"
	}
	return x.explain(what)
}

// notIndexable says what x is, having been indexed.
func notIndexable(x operand) string {
	if x.owner != nil && x.value == glua.LNil {
		return x.explain("field")
	}
	return x.explain("table")
}

// explain says that x is not a `want`: a field its table does not have
// (and the one meant), or a name that is nil or of another type.
func (x operand) explain(want string) string {
	switch {
	case x.owner != nil && x.value == glua.LNil:
		msg := fmt.Sprintf("%s is not a %s of %s", x.name, want, x.ownerName)
		keys := fieldNames(x.owner)
		if guess := closest(x.key, keys); guess != "" {
			sep := "."
			if x.method {
				sep = ":"
			}
			return msg + fmt.Sprintf("; did you mean %s%s%s?", x.ownerName, sep, guess)
		}
		switch {
		case len(keys) == 0:
			return msg + fmt.Sprintf(" (%s is empty)", x.ownerName)
		case len(keys) <= 8:
			return msg + fmt.Sprintf(" (it has %s)", strings.Join(keys, ", "))
		}
		return msg
	case x.value == nil:
		return fmt.Sprintf("%s is not a %s", x.name, want)
	case x.value == glua.LNil:
		msg := fmt.Sprintf("%s is nil, not a %s", x.name, want)
		// _G and _VERSION are no one's typo of a function name.
		others := slices.DeleteFunc(slices.Clone(x.scope), func(s string) bool {
			return s == x.name || strings.HasPrefix(s, "_") && !strings.HasPrefix(x.name, "_")
		})
		if guess := closest(x.name, others); guess != "" {
			return msg + fmt.Sprintf("; did you mean %s?", guess)
		}
		return msg
	}
	return fmt.Sprintf("%s is %s, not a %s", x.name, kind(x.value), want)
}
