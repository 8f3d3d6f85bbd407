package lua

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"regexp"
	"slices"
	"strings"
	"time"

	glua "github.com/yuin/gopher-lua"
)

// DefaultFunctionTimeout bounds one call of a library function from HCL
// when Libraries.FunctionTimeout is zero. Functions are meant to reshape
// values, not to compute for long: a call that takes this long is almost
// surely an endless loop.
const DefaultFunctionTimeout = 5 * time.Second

// Function is a pure function a library declares in the functions table it
// returns:
//
//	local M = {}
//	M.functions = { slug = function(s) return (s:lower():gsub("%W+", "-")) end }
//	return M
//
// HCL calls it as lua::slug(...). Each call runs in a fresh sandboxed state
// without API access and with math.random seeded from the function's name,
// so that the same arguments always give the same result and plan may call
// it.
type Function struct {
	Name string // as HCL calls it, without lua::
	File string // the library's file, as positions name it
	lib  string // the library's require name
}

var functionName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Functions returns the functions the libraries declare, by name. Finding
// them runs every library once, without API access: a library that fails
// to load then, declares a functions field that is not a table of
// functions, or declares a name another library declares too is an error
// naming its file. The answer is found once and kept, unless ctx ended
// while it was found (an interrupt says nothing about the libraries): the
// next call then looks again.
func (l *Libraries) Functions(ctx context.Context) (map[string]*Function, error) {
	if l == nil {
		return nil, nil
	}
	l.funcsMu.Lock()
	defer l.funcsMu.Unlock()
	if !l.funcsDone {
		l.funcs, l.funcsErr = l.findFunctions(ctx)
		l.funcsDone = l.funcsErr == nil || ctx.Err() == nil
	}
	return l.funcs, l.funcsErr
}

func (l *Libraries) findFunctions(ctx context.Context) (map[string]*Function, error) {
	names, err := l.names()
	if err != nil {
		return nil, err
	}
	out := map[string]*Function{}
	for _, name := range names {
		lib, err := l.load(name)
		if err != nil {
			return nil, err
		}
		if lib == nil {
			continue
		}
		err = l.pure(ctx, lib.file, "", func(r *runtime) error {
			fns, err := r.functionsTable(lib)
			if err != nil || fns == nil {
				return err
			}
			var bad error
			fns.ForEach(func(k, v glua.LValue) {
				key, ok := k.(glua.LString)
				switch {
				case bad != nil:
				case !ok || !functionName.MatchString(string(key)):
					bad = fmt.Errorf("%s: functions: the key %s is not a function name (letters, digits and _)", lib.file, k.String())
				case v.Type() != glua.LTFunction:
					bad = fmt.Errorf("%s: functions.%s is a %s, not a function", lib.file, key, v.Type())
				case out[string(key)] != nil:
					bad = fmt.Errorf("%s: functions.%s: %s declares a function of that name too", lib.file, key, out[string(key)].File)
				default:
					out[string(key)] = &Function{Name: string(key), File: lib.file, lib: name}
				}
			})
			return bad
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// functionsTable requires lib and returns the functions table of what it
// returns, nil when it has none.
func (r *runtime) functionsTable(lib *library) (*glua.LTable, error) {
	L := r.L
	L.Push(L.NewFunction(r.require))
	L.Push(glua.LString(lib.name))
	if err := r.protectedCall(1, 1); err != nil {
		return nil, err
	}
	mod := L.Get(-1)
	L.Pop(1)
	t, ok := mod.(*glua.LTable)
	if !ok {
		return nil, nil
	}
	switch fns := t.RawGetString("functions").(type) {
	case *glua.LTable:
		return fns, nil
	case *glua.LNilType:
		return nil, nil
	default:
		return nil, fmt.Errorf("%s: functions is a %s; make it a table of functions", lib.file, fns.Type())
	}
}

// Call calls the function HCL knows as lua::name with args, each a JSON
// value, and returns its result as JSON. Arguments and result are
// converted by the same rules as a script's input and result. Errors are
// *ScriptError naming the library's file and line.
func (l *Libraries) Call(ctx context.Context, name string, args []json.RawMessage) (json.RawMessage, error) {
	fns, err := l.Functions(ctx)
	if err != nil {
		return nil, err
	}
	fn := fns[name]
	if fn == nil {
		return nil, fmt.Errorf("no library declares a function %q", name)
	}
	var out json.RawMessage
	err = l.pure(ctx, fn.File, name, func(r *runtime) error {
		lib, err := l.load(fn.lib)
		if err != nil {
			return err
		}
		fns, err := r.functionsTable(lib)
		if err != nil {
			return err
		}
		f, ok := fns.RawGetString(name).(*glua.LFunction)
		if !ok {
			return &ScriptError{File: fn.File, Msg: fmt.Sprintf("functions.%s is no longer a function", name)}
		}
		L := r.L
		L.Push(f)
		for i, a := range args {
			v, err := r.toLua(a, &path{root: fmt.Sprintf("argument %d", i+1)}, 0)
			if err != nil {
				L.Pop(i + 1)
				return &ScriptError{File: fn.File, Msg: err.Error(), Err: err}
			}
			L.Push(v)
		}
		if err := r.protectedCall(len(args), 1); err != nil {
			return err
		}
		out, err = r.encodeJSON(L.Get(-1), "result")
		if err != nil {
			return &ScriptError{File: fn.File, Msg: err.Error(), Err: err}
		}
		return nil
	})
	return out, err
}

// pure runs do with a fresh state that has the libraries but no API
// access, bounded in time and memory, its errors naming file. seed names
// the function whose call it is, "" when loading.
func (l *Libraries) pure(ctx context.Context, file, seed string, do func(*runtime) error) error {
	timeout := l.FunctionTimeout
	if timeout <= 0 {
		timeout = DefaultFunctionTimeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, &timeoutError{timeout})
	defer cancel()
	limit := l.FunctionMemory
	if limit == 0 {
		limit = DefaultMaxMemory
	}
	var guard *memoryGuard
	if limit > 0 {
		var stop func()
		ctx, guard, stop = guardMemory(ctx, limit)
		defer stop()
	}
	h := fnv.New64a()
	h.Write([]byte("lua::" + seed))
	r, err := newRuntime(file, Options{Libraries: l, Seed: h.Sum64()})
	if err != nil {
		return err
	}
	defer r.close()
	r.guard = guard
	r.noAPI = "lua:: functions are pure: they cannot call the API (call it from a script step instead)"
	r.L.SetContext(ctx)
	defer r.L.RemoveContext()
	return do(r)
}

// FunctionList lists the names of the functions the libraries declare,
// sorted, without lua::.
func (l *Libraries) FunctionList(ctx context.Context) ([]string, error) {
	fns, err := l.Functions(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(fns))
	for n := range fns {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}

// FunctionNames lists the names of fns, sorted, for messages.
func FunctionNames(fns map[string]*Function) string {
	names := make([]string, 0, len(fns))
	for n := range fns {
		names = append(names, "lua::"+n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
