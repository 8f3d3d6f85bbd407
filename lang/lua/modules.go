package lua

import (
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"

	"github.com/okru-run/okru-run/okru/media"
	glua "github.com/yuin/gopher-lua"
)

// removed are the base functions a script must not have, and why. They are
// replaced by functions that raise a clear error rather than left nil, so
// that a script using one learns what happened instead of reading "attempt
// to call a nil value".
var removed = map[string]string{
	"dofile":         "scripts cannot read files",
	"loadfile":       "scripts cannot read files",
	"load":           "scripts cannot compile code at run time",
	"loadstring":     "scripts cannot compile code at run time",
	"collectgarbage": "memory is managed by the host",
	"getfenv":        "scripts cannot change function environments",
	"setfenv":        "scripts cannot change function environments",
	"module":         "use local tables and return them instead",
	"newproxy":       "use tables with metatables instead",
}

// unavailableLibs are standard libraries that are not opened. Their globals
// are tables that raise a clear error on any use.
var unavailableLibs = map[string]string{
	"io":        "scripts cannot read or write files",
	"os":        "scripts cannot run programs, read the environment or touch files",
	"debug":     "it can break out of the sandbox",
	"package":   "require gives json, okru and the libraries in the lua folder",
	"coroutine": "it is not part of the sandbox",
}

// requirable are the built-in modules require() returns; any other name is
// a library from Options.Libraries (see library.go).
var requirable = []string{"json", "math", "okru", "string", "table"}

// install opens the safe standard libraries and adds okru, json, log and
// the sandbox's replacements.
func (r *runtime) install() {
	L := r.L
	for _, lib := range []struct {
		name string
		open glua.LGFunction
	}{
		{"", glua.OpenBase},
		{glua.TabLibName, glua.OpenTable},
		{glua.StringLibName, glua.OpenString},
		{glua.MathLibName, glua.OpenMath},
	} {
		L.Push(L.NewFunction(lib.open))
		L.Push(glua.LString(lib.name))
		L.Call(1, 0)
	}

	for name, why := range removed {
		L.SetGlobal(name, L.NewFunction(unavailable(name, why)))
	}
	// gopher-lua's register dump writes to the process's stdout.
	L.SetGlobal("_printregs", glua.LNil)
	r.installUnavailableLibs()
	// stdout carries the tool's data: print goes to the log like log().
	L.SetGlobal("print", L.NewFunction(r.logFn))
	L.SetGlobal("log", L.NewFunction(r.logFn))
	L.SetGlobal("require", L.NewFunction(r.require))
	L.SetGlobal("error", L.NewFunction(luaError))
	L.SetGlobal("pcall", L.NewFunction(luaPcall))
	L.SetGlobal("xpcall", L.NewFunction(luaXpcall))
	if str, ok := L.GetGlobal(glua.StringLibName).(*glua.LTable); ok {
		tbl, _ := L.GetGlobal(glua.TabLibName).(*glua.LTable)
		r.installBounded(str, tbl)
	}
	if math, ok := L.GetGlobal(glua.MathLibName).(*glua.LTable); ok {
		math.RawSetString("random", L.NewFunction(r.mathRandom))
		math.RawSetString("randomseed", L.NewFunction(r.mathRandomseed))
	}

	r.null = L.NewUserData()
	r.null.Value = nullValue{}
	r.null.Metatable = L.SetFuncs(L.NewTable(), map[string]glua.LGFunction{
		"__tostring": func(L *glua.LState) int { L.Push(glua.LString("null")); return 1 },
	})
	r.objectMT = L.NewTable()
	r.objectMT.RawSetString(jsonTypeField, glua.LString("object"))
	r.errorMT = L.SetFuncs(L.NewTable(), map[string]glua.LGFunction{
		"__index":    r.errorIndex,
		"__tostring": errorToString,
	})

	jsonMod := L.SetFuncs(L.NewTable(), map[string]glua.LGFunction{
		"encode": r.jsonEncode,
		"decode": r.jsonDecode,
		"object": r.jsonObject,
	})
	jsonMod.RawSetString("null", r.null)
	okruMod := L.SetFuncs(L.NewTable(), map[string]glua.LGFunction{
		"call":             r.apiFunc("okru.call", r.call, ""),
		"pcall":            r.apiFunc("okru.pcall", r.pcall, ""),
		"paginate":         r.apiFunc("okru.paginate", r.paginate, ""),
		"upload_photos":    r.uploadFunc("okru.upload_photos", UploadPhotosMethod, ""),
		"upload_video":     r.uploadFunc("okru.upload_video", UploadVideoMethod, ""),
		"topic_attachment": r.topicAttachment,
		"sessions":         r.sessionList,
		"session":          r.session,
	})
	L.SetGlobal("json", jsonMod)
	L.SetGlobal("okru", okruMod)

	r.modules = map[string]glua.LValue{}
	for _, name := range requirable {
		r.modules[name] = L.GetGlobal(name)
	}
}

func unavailable(name, why string) glua.LGFunction {
	return func(L *glua.LState) int {
		L.RaiseError("%s is not available in okru-run scripts: %s", name, why)
		return 0
	}
}

// installUnavailableLibs makes the placeholder tables of unavailableLibs. They
// share one metatable whose handlers find the library by its table.
func (r *runtime) installUnavailableLibs() {
	L := r.L
	names := make(map[*glua.LTable]string, len(unavailableLibs))
	raise := func(L *glua.LState) int {
		name := names[L.CheckTable(1)]
		L.RaiseError("%s.%s: the %s library is not available in okru-run scripts: %s",
			name, L.Get(2).String(), name, unavailableLibs[name])
		return 0
	}
	mt := L.SetFuncs(L.NewTable(), map[string]glua.LGFunction{"__index": raise, "__newindex": raise})
	for name := range unavailableLibs {
		t := L.NewTable()
		t.Metatable = mt
		names[t] = name
		L.SetGlobal(name, t)
	}
}

// logFn is log(...) and print(...): the tostring of each argument, joined
// by spaces, as one line.
func (r *runtime) logFn(L *glua.LState) int {
	parts := make([]string, L.GetTop())
	for i := range parts {
		parts[i] = L.ToStringMeta(L.Get(i + 1)).String()
	}
	if r.log != nil {
		r.log(strings.Join(parts, " "))
	}
	return 0
}

// luaError is error(message [, level]) with Lua 5.1's levels: 1 (the
// default) blames the function that called error, 2 its caller, and so on.
// gopher-lua's own error is off by one level for 2 and beyond, which
// matters for the common error("bad argument", 2) in helper functions.
func luaError(L *glua.LState) int {
	obj := L.CheckAny(1)
	level := L.OptInt(2, 1)
	if msg, ok := obj.(glua.LString); ok && level > 0 {
		// Stack level 0 is error itself, 1 the function that called it.
		if dbg, ok := L.GetStack(level); ok {
			if _, err := L.GetInfo("Sl", dbg, glua.LNil); err == nil && dbg.CurrentLine > 0 {
				obj = glua.LString(fmt.Sprintf("%s:%d: %s", dbg.Source, dbg.CurrentLine, msg))
			}
		}
	}
	L.Error(obj, 0)
	return 0
}

// ---- json ----

func (r *runtime) jsonEncode(L *glua.LState) int {
	b, err := r.encodeJSON(L.CheckAny(1), "value")
	if err != nil {
		L.RaiseError("json.encode: %v", err)
	}
	L.Push(glua.LString(b))
	return 1
}

func (r *runtime) jsonDecode(L *glua.LState) int {
	v, err := r.decodeJSON([]byte(L.CheckString(1)), "value")
	if err != nil {
		L.RaiseError("json.decode: %v", err)
	}
	L.Push(v)
	return 1
}

// jsonObject marks a table (a new one without argument) as a JSON object,
// so that it encodes as {} while empty.
func (r *runtime) jsonObject(L *glua.LState) int {
	t := L.OptTable(1, nil)
	if t == nil {
		t = L.NewTable()
	}
	if t.Metatable != glua.LNil && t.Metatable != r.objectMT && !isObject(t) {
		L.RaiseError("json.object: the table already has a metatable; set %s = \"object\" in it instead", jsonTypeField)
	}
	if t.Metatable == glua.LNil {
		t.Metatable = r.objectMT
	}
	L.Push(t)
	return 1
}

// ---- okru ----

// apiRequest is what okru.call, okru.pcall and okru.paginate read from
// their arguments.
type apiRequest struct {
	method  string
	params  map[string]any
	session string
}

// apiFunc adapts an API function to Lua. session is "" for the okru
// module's functions, which take the session as an optional third argument,
// or the bound name for the functions of okru.session(name), which may be
// called with a dot or a colon.
func (r *runtime) apiFunc(fname string, fn func(*glua.LState, apiRequest) int, session string) glua.LGFunction {
	bound := session != ""
	return func(L *glua.LState) int {
		base := 1
		if t, ok := L.Get(1).(*glua.LTable); ok && bound && t.RawGetString("name") == glua.LString(session) {
			base = 2 // s:call(...)
		}
		req := apiRequest{method: L.CheckString(base), session: session}
		params, err := r.params(L.Get(base + 1))
		if err != nil {
			L.RaiseError("%s %s: %v", fname, req.method, err)
		}
		req.params = params
		if !bound {
			req.session = L.OptString(base+2, "")
			if req.session != "" {
				r.checkSession(L, req.session)
			}
		}
		if r.caller == nil {
			L.RaiseError("%s %s: %s", fname, req.method, r.noAPIReason())
		}
		return fn(L, req)
	}
}

// The methods Caller.Call receives for okru.upload_photos and
// okru.upload_video: not API methods, but uploads the Caller makes (and
// journals) with the arguments as params.
const (
	UploadPhotosMethod = "upload:photos"
	UploadVideoMethod  = "upload:video"
)

// uploadFunc adapts an upload to Lua: fname{...} or fname({...}, session),
// or s:fname{...} for a session table. It raises on failure, as okru.call.
func (r *runtime) uploadFunc(fname, method, session string) glua.LGFunction {
	bound := session != ""
	return func(L *glua.LState) int {
		base := 1
		if t, ok := L.Get(1).(*glua.LTable); ok && bound && t.RawGetString("name") == glua.LString(session) {
			base = 2
		}
		if _, ok := L.Get(base).(*glua.LTable); !ok {
			L.RaiseError("%s takes a table, as in %s{files = {\"a.jpg\"}}", fname, fname)
		}
		req := apiRequest{method: method, session: session}
		params, err := r.params(L.Get(base))
		if err != nil {
			L.RaiseError("%s: %v", fname, err)
		}
		req.params = params
		if !bound {
			req.session = L.OptString(base+1, "")
			if req.session != "" {
				r.checkSession(L, req.session)
			}
		}
		if r.caller == nil {
			L.RaiseError("%s: %s", fname, r.noAPIReason())
		}
		return r.call(L, req)
	}
}

// topicAttachment is okru.topic_attachment{text =, photos =, video =}: the
// attachment of a mediatopic.post showing a text, the photos of
// okru.upload_photos results and the videos of okru.upload_video results
// (each a result, a list of them, or nil). Package media builds it, as it
// does topic_attachment() in a workflow, so both give the same JSON.
func (r *runtime) topicAttachment(L *glua.LState) int {
	const fname = "okru.topic_attachment"
	t, ok := L.Get(1).(*glua.LTable)
	if !ok {
		L.RaiseError("%s takes a table, as in %s{text = \"Hello\", photos = up}", fname, fname)
	}
	g, err := r.newEncoder(fname).table(t)
	if err != nil {
		L.RaiseError("%v", err)
	}
	args, _ := g.(map[string]any) // an empty table is a list: no arguments
	var topic media.Topic
	for _, k := range slices.Sorted(maps.Keys(args)) {
		switch k {
		case "text":
			s, ok := args[k].(string)
			if !ok {
				L.RaiseError("%s: text must be a string", fname)
			}
			topic.Text = s
		case "photos", "video":
		default:
			L.RaiseError("%s: unknown field %q: it takes text, photos and video", fname, k)
		}
	}
	for _, k := range []string{"photos", "video"} {
		if err := topic.Add(args[k]); err != nil {
			L.RaiseError("%s: %s: %v", fname, k, err)
		}
	}
	att, err := topic.Attachment()
	if err != nil {
		L.RaiseError("%s: %v", fname, err)
	}
	lv, err := r.toLua(att, &path{root: fname}, 0)
	if err != nil {
		L.RaiseError("%v", err)
	}
	L.Push(lv)
	return 1
}

func (r *runtime) noAPIReason() string {
	if r.noAPI != "" {
		return r.noAPI
	}
	return "this run has no API access (no sessions were given to the script)"
}

func (r *runtime) checkSession(L *glua.LState, name string) {
	if !slices.Contains(r.sessions, name) {
		known := "none are configured"
		if len(r.sessions) > 0 {
			known = "known: " + strings.Join(r.sessions, ", ")
		}
		L.RaiseError("unknown session %q (%s)", name, known)
	}
}

func (r *runtime) call(L *glua.LState, req apiRequest) int {
	v, ud := r.doCall(L, req)
	if ud != nil {
		L.Error(ud, 0)
	}
	L.Push(v)
	return 1
}

func (r *runtime) pcall(L *glua.LState, req apiRequest) int {
	v, ud := r.doCall(L, req)
	if ud != nil {
		L.Push(glua.LNil)
		L.Push(ud)
		return 2
	}
	L.Push(v)
	L.Push(glua.LNil)
	return 2
}

// doCall calls the API. An API or transport error comes back as an error
// userdata; the run's context ending raises, so that okru.pcall cannot
// swallow a stop.
func (r *runtime) doCall(L *glua.LState, req apiRequest) (glua.LValue, *glua.LUserData) {
	ctx := L.Context()
	raw, err := r.caller.Call(ctx, req.session, req.method, req.params)
	if err != nil {
		if ctx.Err() != nil {
			L.RaiseError("%s", stopMessage(ctx))
		}
		return nil, r.newError(L, req.method, err)
	}
	v, err := r.decodeJSON(raw, "result")
	if err != nil {
		L.RaiseError("okru.call %s: %v", req.method, answerError(err))
	}
	return v, nil
}

// paginate returns a generic-for iterator over the pages of a paged method:
//
//	for page in okru.paginate("group.getMembers", {uid = gid, count = 100}) do ... end
func (r *runtime) paginate(L *glua.LState, req apiRequest) int {
	ctx := L.Context()
	next, stop := iter.Pull2(r.caller.Pages(ctx, req.session, req.method, req.params))
	r.stops = append(r.stops, stop)
	done := false
	L.Push(L.NewFunction(func(L *glua.LState) int {
		if done {
			L.Push(glua.LNil)
			return 1
		}
		raw, err, ok := next()
		if !ok || err != nil {
			done = true
			stop()
		}
		switch {
		case !ok:
			L.Push(glua.LNil)
			return 1
		case err != nil && ctx.Err() != nil:
			L.RaiseError("%s", stopMessage(ctx))
		case err != nil:
			L.Error(r.newError(L, req.method, err), 0)
		}
		v, err := r.decodeJSON(raw, "page")
		if err != nil {
			L.RaiseError("okru.paginate %s: %v", req.method, answerError(err))
		}
		L.Push(v)
		return 1
	}))
	return 1
}

func (r *runtime) sessionList(L *glua.LState) int {
	t := L.CreateTable(len(r.sessions), 0)
	for _, s := range r.sessions {
		t.Append(glua.LString(s))
	}
	L.Push(t)
	return 1
}

// session returns okru.session(name): a table with the session's name and
// call, pcall and paginate bound to it.
func (r *runtime) session(L *glua.LState) int {
	name := L.CheckString(1)
	r.checkSession(L, name)
	t := L.SetFuncs(L.NewTable(), map[string]glua.LGFunction{
		"call":          r.apiFunc("okru.call", r.call, name),
		"pcall":         r.apiFunc("okru.pcall", r.pcall, name),
		"paginate":      r.apiFunc("okru.paginate", r.paginate, name),
		"upload_photos": r.uploadFunc("okru.upload_photos", UploadPhotosMethod, name),
		"upload_video":  r.uploadFunc("okru.upload_video", UploadVideoMethod, name),
	})
	t.RawSetString("name", glua.LString(name))
	L.Push(t)
	return 1
}

// newError makes the Lua error value of a failed call, remembering where
// the script made the call.
func (r *runtime) newError(L *glua.LState, method string, err error) *glua.LUserData {
	ud := L.NewUserData()
	ud.Value = &callError{method: method, err: wrapCallError(method, err), stack: luaPositions(stack(L, 0))}
	ud.Metatable = r.errorMT
	return ud
}

// errorIndex gives an API error's fields: code, name and class (nil when
// the call failed before ok.ru answered), message, method and data (ok.ru's
// error_data).
func (r *runtime) errorIndex(L *glua.LState) int {
	ce, _ := L.CheckUserData(1).Value.(*callError)
	if ce == nil {
		L.Push(glua.LNil)
		return 1
	}
	apiErr := ce.apiError()
	var v glua.LValue = glua.LNil
	switch L.CheckString(2) {
	case "method":
		v = glua.LString(ce.method)
	case "message":
		v = glua.LString(ce.message())
	case "code":
		if apiErr != nil {
			v = glua.LNumber(apiErr.Code)
		}
	case "name":
		if apiErr != nil {
			v = glua.LString(apiErr.Name())
		}
	case "class":
		if apiErr != nil {
			v = glua.LString(apiErr.Class())
		}
	case "data":
		if apiErr != nil && len(apiErr.Data) > 0 {
			if d, err := r.decodeJSON(apiErr.Data, "data"); err == nil {
				v = d
			}
		}
	}
	L.Push(v)
	return 1
}

func errorToString(L *glua.LState) int {
	if ce, ok := L.CheckUserData(1).Value.(*callError); ok {
		L.Push(glua.LString(ce.err.Error()))
		return 1
	}
	L.Push(glua.LString("okru error"))
	return 1
}
