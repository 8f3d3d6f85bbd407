package lua

import (
	"fmt"
	"strings"
	"unsafe"

	glua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/pm"
)

// Bounded string functions.
//
// gopher-lua checks the run's context and the memory guard sees the heap
// only between VM instructions, but a string function is one instruction
// however long it works: table.concat of 200 references to a 16 MiB string
// builds 3.2 GB in one step, and gopher-lua's gsub copies the whole output
// once per match (a 6,000-character subject ran for minutes). The functions
// below replace gopher-lua's: each works out the size of its result before
// building it, refuses one longer than the run's string limit
// (MaxResultBytes), reserves it from the memory guard, and checks the
// context while it works, so that timeouts, Ctrl-C and the memory limit
// hold inside a call too.

// reserveMin is how many bytes of results are built between two looks at
// the heap: a look costs about a microsecond, copying 64 KiB more.
const reserveMin = 64 << 10

// checkEvery is how many matches or elements a loop handles between two
// looks at the context and the heap.
const checkEvery = 1024

// installBounded replaces the string functions that can build large
// strings or work long in one call, in the string table (and so in the
// methods of strings) and in table.concat, and sets the function the ..
// operator calls (see concat.go).
func (r *runtime) installBounded(str, tbl *glua.LTable) {
	L := r.L
	format, _ := str.RawGetString("format").(*glua.LFunction)
	funcs := map[string]glua.LGFunction{
		"rep":     r.stringRep,
		"find":    r.stringFind(true),
		"match":   r.stringFind(false),
		"gsub":    r.stringGsub,
		"upper":   r.stringMap("string.upper", strings.ToUpper),
		"lower":   r.stringMap("string.lower", strings.ToLower),
		"reverse": r.stringMap("string.reverse", reverse),
	}
	if format != nil && format.IsG {
		funcs["format"] = r.stringFormat(format.GFunction)
	}
	for name, fn := range funcs {
		str.RawSetString(name, L.NewFunction(fn))
	}
	gmatch := L.NewFunction(r.stringGmatch)
	str.RawSetString("gmatch", gmatch)
	str.RawSetString("gfind", gmatch)
	if tbl != nil {
		tbl.RawSetString("concat", L.NewFunction(r.tableConcat))
	}
	L.SetGlobal(concatName, L.NewFunction(r.concat))
}

// checkStop raises the stop error once the run's context has ended, so
// that a long call ends as the VM would have between instructions.
func (r *runtime) checkStop(L *glua.LState) {
	if ctx := L.Context(); ctx != nil && ctx.Err() != nil {
		L.RaiseError("%s", stopMessage(ctx))
	}
}

// reserve is called before a function builds a result of n bytes: it
// raises an error if n is beyond the run's string limit, and stops the run
// if the heap has no room for n more bytes. The heap is read once per
// reserveMin bytes of results, so that many small ones (s .. i in a loop)
// are counted too.
func (r *runtime) reserve(L *glua.LState, fname string, n int) {
	r.checkStop(L)
	if n > r.limit || n < 0 {
		L.RaiseError("%s: the result would be longer than the %s limit", fname, formatBytes(r.limit))
	}
	if r.guard == nil {
		return
	}
	if r.unchecked += n; r.unchecked < reserveMin {
		return
	}
	r.unchecked = 0
	if !r.guard.reserve(int64(n)) {
		r.checkStop(L)
	}
}

// checkHeap stops the run when the heap is already beyond the guard's
// limit; loops call it every checkEvery steps.
func (r *runtime) checkHeap(L *glua.LState) {
	if r.guard != nil {
		r.guard.reserve(0)
	}
	r.checkStop(L)
}

// stringRep is string.rep: string.rep("x", 1e12) would otherwise take the
// process's memory in one call.
func (r *runtime) stringRep(L *glua.LState) int {
	s := L.CheckString(1)
	n := L.CheckInt(2)
	if n <= 0 || s == "" {
		L.Push(glua.LString(""))
		return 1
	}
	if n > r.limit/len(s) {
		L.RaiseError("string.rep: the result would be longer than the %s limit", formatBytes(r.limit))
	}
	r.reserve(L, "string.rep", len(s)*n)
	L.Push(glua.LString(strings.Repeat(s, n)))
	return 1
}

// stringMap is a function whose result is about as long as its argument:
// upper, lower, reverse. Changing the case of some UTF-8 letters changes
// their length, so the result is checked again once it is built.
func (r *runtime) stringMap(fname string, f func(string) string) glua.LGFunction {
	return func(L *glua.LState) int {
		s := L.CheckString(1)
		r.reserve(L, fname, len(s))
		out := f(s)
		if len(out) > r.limit {
			L.RaiseError("%s: the result would be longer than the %s limit", fname, formatBytes(r.limit))
		}
		L.Push(glua.LString(out))
		return 1
	}
}

func reverse(s string) string {
	b := make([]byte, len(s))
	for i := range len(s) {
		b[len(s)-1-i] = s[i]
	}
	return string(b)
}

// stringFormat is gopher-lua's string.format after a check of the longest
// result it can give: each directive writes at most its width, its
// precision or its argument, whichever is longest, plus a number's digits.
// Go's fmt refuses widths and precisions beyond 10^6, but a format string
// with thousands of "%999999d" would still ask for gigabytes.
func (r *runtime) stringFormat(format glua.LGFunction) glua.LGFunction {
	return func(L *glua.LState) int {
		f := L.CheckString(1)
		r.reserve(L, "string.format", formatBound(L, f))
		return format(L)
	}
}

// formatBound returns an upper bound of the length of string.format(f,
// ...) with the arguments on L's stack from 2, or -1 when it overflows.
func formatBound(L *glua.LState, f string) int {
	const numberLen = 64 // the longest number text without width or precision, with room to spare
	n, arg := 0, 2
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			n++
			continue
		}
		i++
		if i < len(f) && f[i] == '%' {
			n++
			continue
		}
		for i < len(f) && strings.IndexByte("-+ #0", f[i]) >= 0 {
			i++
		}
		width, prec := 0, 0
		for ; i < len(f) && f[i] >= '0' && f[i] <= '9'; i++ {
			width = min(width*10+int(f[i]-'0'), 1<<30)
		}
		if i < len(f) && f[i] == '.' {
			for i++; i < len(f) && f[i] >= '0' && f[i] <= '9'; i++ {
				prec = min(prec*10+int(f[i]-'0'), 1<<30)
			}
		}
		argLen := numberLen
		if s, ok := L.Get(arg).(glua.LString); ok {
			argLen = max(len(s)*2, numberLen) // %q may escape every byte
		}
		arg++
		n += max(width, prec+numberLen, argLen)
		if n > 1<<40 {
			return -1
		}
	}
	return n
}

// stringGsub is string.gsub with Lua 5.1's rules, built one match at a
// time: the output is bounded as it grows and the context checked between
// batches of matches. gopher-lua's version finds every match first (16M
// match records for "." on a 16 MiB string) and then copies the whole
// output once per match.
func (r *runtime) stringGsub(L *glua.LState) int {
	src := L.CheckString(1)
	pat := L.CheckString(2)
	L.CheckTypes(3, glua.LTString, glua.LTTable, glua.LTFunction)
	repl := L.Get(3)
	maxN := L.OptInt(4, -1)
	anchored := strings.HasPrefix(pat, "^")
	b := readOnlyBytes(src)
	var out strings.Builder
	last, count := 0, 0
	for sp := 0; sp <= len(src) && count != maxN; {
		batch := checkEvery
		if maxN >= 0 {
			batch = min(batch, maxN-count)
		}
		mds := r.search(L, pat, b, sp, batch)
		for _, md := range mds {
			start, end := md.Capture(0), md.Capture(1)
			piece := src[start:end]
			if v := r.gsubValue(L, src, repl, md); v != nil {
				piece = *v
			}
			if out.Len()+(start-last)+len(piece) > r.limit {
				L.RaiseError("string.gsub: the result would be longer than the %s limit", formatBytes(r.limit))
			}
			out.WriteString(src[last:start])
			out.WriteString(piece)
			last = end
			count++
			sp = max(start+1, end)
		}
		if len(mds) < batch || anchored {
			break
		}
		r.checkHeap(L)
	}
	if out.Len()+len(src)-last > r.limit {
		L.RaiseError("string.gsub: the result would be longer than the %s limit", formatBytes(r.limit))
	}
	out.WriteString(src[last:])
	L.Push(glua.LString(out.String()))
	L.Push(glua.LNumber(count))
	return 2
}

// gsubValue returns the replacement of one match, or nil to keep the
// match (a table or function gave false or nil).
func (r *runtime) gsubValue(L *glua.LState, src string, repl glua.LValue, md *pm.MatchData) *string {
	var v glua.LValue
	switch repl := repl.(type) {
	case glua.LString:
		s := expandRepl(L, src, string(repl), md)
		return &s
	case *glua.LTable:
		v = L.GetTable(repl, capture(src, md, 1))
	case *glua.LFunction:
		L.Push(repl)
		n := max(md.CaptureLength()/2-1, 1)
		for i := 1; i <= n; i++ {
			L.Push(capture(src, md, i))
		}
		L.Call(n, 1)
		v = L.Get(-1)
		L.Pop(1)
	}
	switch v := v.(type) {
	case glua.LString:
		s := string(v)
		return &s
	case glua.LNumber:
		s := v.String()
		return &s
	case *glua.LNilType, glua.LBool:
		if glua.LVIsFalse(v) {
			return nil
		}
	}
	L.RaiseError("invalid replacement value (a %s)", v.Type().String())
	return nil
}

// capture returns capture i (from 1) of a match as Lua sees it: the whole
// match when the pattern has no captures, a number for a position capture.
func capture(src string, md *pm.MatchData, i int) glua.LValue {
	if md.CaptureLength() == 2 {
		if i != 1 {
			return glua.LNil
		}
		return glua.LString(src[md.Capture(0):md.Capture(1)])
	}
	idx := 2 * i
	if idx >= md.CaptureLength() {
		return glua.LNil
	}
	if md.IsPosCapture(idx) {
		return glua.LNumber(md.Capture(idx))
	}
	return glua.LString(src[md.Capture(idx):md.Capture(idx+1)])
}

// expandRepl expands a replacement string: %0 is the match, %1 to %9 the
// captures, and % before any other character that character.
func expandRepl(L *glua.LState, src, repl string, md *pm.MatchData) string {
	if strings.IndexByte(repl, '%') < 0 {
		return repl
	}
	var b strings.Builder
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		if c != '%' || i+1 == len(repl) {
			b.WriteByte(c)
			continue
		}
		i++
		c = repl[i]
		switch {
		case c == '0':
			b.WriteString(src[md.Capture(0):md.Capture(1)])
		case c >= '1' && c <= '9':
			v := capture(src, md, int(c-'0'))
			if v == glua.LNil {
				L.RaiseError("invalid capture index %%%c in replacement string", c)
			}
			b.WriteString(v.String())
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// search returns up to limit matches of pat in b from sp, as pm.Find. A
// Lua pattern can take exponential time (".-.-.-.-b" on a long string) in
// one search that has no way to stop, so it runs on its own goroutine while
// the script waits for it or for the run's end. A search left behind by a
// stopped run goes on until it finishes, holding only b: the CLI exits, and
// a long-lived host keeps a busy goroutine rather than a script that never
// stops.
func (r *runtime) search(L *glua.LState, pat string, b []byte, sp, limit int) []*pm.MatchData {
	type result struct {
		mds []*pm.MatchData
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- result{err: fmt.Errorf("malformed pattern: %v", v)}
			}
		}()
		mds, err := pm.Find(pat, b, sp, limit)
		done <- result{mds, err}
	}()
	var stop <-chan struct{}
	if ctx := L.Context(); ctx != nil {
		stop = ctx.Done()
	}
	select {
	case res := <-done:
		if res.err != nil {
			L.RaiseError("%s", res.err.Error())
		}
		return res.mds
	case <-stop:
		r.checkStop(L)
		return nil
	}
}

// readOnlyBytes gives pm, which takes bytes but never writes them, a
// string's bytes without copying: find in a loop over a 16 MiB string
// must not copy it on every call.
func readOnlyBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// stringFind is string.find (find true) and string.match, with Lua 5.1's
// rules, searching through r.search.
func (r *runtime) stringFind(find bool) glua.LGFunction {
	return func(L *glua.LState) int {
		src := L.CheckString(1)
		pat := L.CheckString(2)
		init := L.OptInt(3, 1)
		if init < 0 {
			init = max(len(src)+init+1, 1)
		}
		init = max(init, 1)
		if init > len(src)+1 {
			L.Push(glua.LNil)
			return 1
		}
		if find && (glua.LVAsBool(L.Get(4)) || !strings.ContainsAny(pat, "^$*+?.([%-")) {
			i := strings.Index(src[init-1:], pat)
			if i < 0 {
				L.Push(glua.LNil)
				return 1
			}
			L.Push(glua.LNumber(init + i))
			L.Push(glua.LNumber(init + i + len(pat) - 1))
			return 2
		}
		mds := r.search(L, pat, readOnlyBytes(src), init-1, 1)
		if len(mds) == 0 {
			L.Push(glua.LNil)
			return 1
		}
		md := mds[0]
		n := 0
		if find {
			L.Push(glua.LNumber(md.Capture(0) + 1))
			L.Push(glua.LNumber(md.Capture(1)))
			n = 2
			if md.CaptureLength() == 2 {
				return n
			}
		}
		captures := max(md.CaptureLength()/2-1, 1)
		for i := 1; i <= captures; i++ {
			L.Push(capture(src, md, i))
		}
		return n + captures
	}
}

// stringGmatch is string.gmatch finding matches a few at a time, as the
// loop asks for them; gopher-lua's finds every match of the whole string up
// front (16M records for "." on a 16 MiB string).
func (r *runtime) stringGmatch(L *glua.LState) int {
	const batch = 64 // matches per search: one goroutine per match would be slow
	src := L.CheckString(1)
	pat := L.CheckString(2)
	b := readOnlyBytes(src)
	var pending []*pm.MatchData
	sp, done := 0, false
	L.Push(L.NewFunction(func(L *glua.LState) int {
		r.checkStop(L)
		if len(pending) == 0 && !done && sp <= len(src) {
			pending = r.search(L, pat, b, sp, batch)
			if len(pending) < batch || strings.HasPrefix(pat, "^") {
				done = true // an anchored pattern matches only at the start
			}
			if len(pending) > 0 {
				last := pending[len(pending)-1]
				sp = max(last.Capture(0)+1, last.Capture(1))
			}
		}
		if len(pending) == 0 {
			return 0
		}
		md := pending[0]
		pending = pending[1:]
		n := max(md.CaptureLength()/2-1, 1)
		for i := 1; i <= n; i++ {
			L.Push(capture(src, md, i))
		}
		return n
	}))
	return 1
}

// tableConcat is table.concat(t [, sep [, i [, j]]]), which adds up the
// length of the result before it builds it.
func (r *runtime) tableConcat(L *glua.LState) int {
	tbl := L.CheckTable(1)
	sep := L.OptString(2, "")
	i := L.OptInt(3, 1)
	j := L.OptInt(4, tbl.Len())
	if i > j {
		L.Push(glua.LString(""))
		return 1
	}
	parts := make([]string, 0, min(j-i+1, 1<<16))
	total := 0
	for k := i; k <= j; k++ {
		v := tbl.RawGetInt(k)
		var s string
		switch v := v.(type) {
		case glua.LString:
			s = string(v)
		case glua.LNumber:
			s = v.String()
		default:
			L.RaiseError("invalid value (at index %d) in table for 'concat'", k)
		}
		total += len(s)
		if k < j {
			total += len(sep)
		}
		if total > r.limit {
			L.RaiseError("table.concat: the result would be longer than the %s limit", formatBytes(r.limit))
		}
		parts = append(parts, s)
		if (k-i+1)%(checkEvery*64) == 0 {
			r.checkStop(L)
		}
	}
	r.reserve(L, "table.concat", total)
	L.Push(glua.LString(strings.Join(parts, sep)))
	return 1
}
