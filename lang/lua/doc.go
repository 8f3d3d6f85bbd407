// Package lua runs okru-run's Lua scripts: a sandboxed Lua 5.1 state
// (gopher-lua) per run, the `okru` and `json` Lua modules, and the exact
// conversion of values between JSON and Lua.
//
// It is for `script` steps of workflows and for `okru-run script.lua`: the
// host (the engine) compiles a script, hands it an input and a Caller, and
// gets its return value back as JSON. It is not an API client: every call
// goes through the Caller, which owns HTTP, rate limits, retries and the
// journal. It knows nothing of HCL.
//
// # What a script sees
//
//	okru.call(method, params [, session])      result, or raises an API error
//	okru.pcall(method, params [, session])     result, nil  or  nil, err
//	okru.paginate(method, params [, session])  iterator: for page in okru.paginate(...) do ... end
//	okru.upload_photos{...}, okru.upload_video{...}  uploads through the Caller (methods UploadPhotosMethod, UploadVideoMethod)
//	okru.topic_attachment{text=, photos=, video=}  a mediatopic.post attachment of a text and upload results (package media)
//	okru.sessions()                            the session names, a list
//	okru.session(name)                         {name=, call=, pcall=, paginate=} bound to name (s.call or s:call)
//	json.encode(v), json.decode(s)             by the rules below
//	json.null, json.object([t])                see below
//	input, args, ...                           Options.Input; Options.Args as a list and as the chunk's ...
//	log(...), print(...)                       tostring of each argument, joined by spaces, to Options.Log
//	require("json"|"okru"|"string"|"table"|"math"), or require("name"): a library from Options.Libraries
//
// params is nil or a table with string keys; its values convert like a
// result does, into plain Go values that the okru client alone turns into
// wire text, as it does for a workflow's values: a list of scalars is sent
// comma-joined, a list holding tables ({{1,2},{3}}) and an object as JSON,
// numbers in plain decimal (1e21 as 1000000000000000000000). NaN, ±inf,
// cycles and keys that are neither strings nor 1..n are errors naming the
// parameter (params.att[2]), raised before anything is sent.
// Without a session argument the Caller's default session is used; a
// name not in okru.sessions() raises an error.
//
// An API error raised by okru.call (or returned by okru.pcall) is a userdata
// with fields code (number), name ("PARAM_SESSION_EXPIRED"), class
// ("auth"), message (ok.ru's error_msg as sent), method and data
// (error_data); tostring gives the full text, e.g. "call friends.get:
// PARAM_SESSION_EXPIRED (102): Session expired". When the call failed
// before ok.ru answered (a transport error), code, name and class are nil
// and message is the error text. Returned in a result it encodes as
// {"code", "name", "class", "message", "method"}.
//
// # JSON to Lua (results, pages, input, json.decode)
//
//   - object → table with string keys, marked as an object (see json.object)
//   - array → sequence 1..n; a null element becomes json.null, so the length is kept
//   - null at the top or as an object member → nil (the member is absent)
//   - string → string, bool → boolean
//   - number → Lua number when float64 holds it to the digit and, if whole,
//     it is at most 2^53 in magnitude; otherwise a string of its exact text.
//     So ids like 12345678901234567890 or 9007199254740993 arrive as the
//     strings "12345678901234567890" and "9007199254740993", never rounded.
//     A number with a point or an exponent beyond float64's range (1e400,
//     1e-400) is an error naming its path (result.items[3].n).
//
// # Lua to JSON (the return value, params, json.encode)
//
//   - nil and json.null → null
//   - boolean → bool; string → string (it must be valid UTF-8)
//   - number → shortest exact form, whole numbers without a decimal point
//     (1, not 1.0); NaN and ±inf are errors. Lua numbers are float64: write big
//     ids as strings ("9007199254740993"); a string stays a string.
//   - table with keys exactly 1..n → array
//   - table with string keys → object (keys sorted in the output)
//   - empty table → [] unless marked as an object: json.object(t) or a
//     metatable with __json = "object"; tables decoded from JSON objects are
//     marked, so {} survives a round trip
//   - errors, each naming the path of the value ("result.users[3]: ..."):
//     holes in an array (use json.null), string keys mixed with indexes,
//     other keys (1.5, true, tables), functions, userdata, cycles, nesting
//     deeper than 10000, and output beyond Options.MaxResultBytes
//
// # Sandbox
//
// Each run gets a fresh state with only the base, table, string and math
// libraries. dofile, loadfile, load, loadstring, collectgarbage, getfenv,
// setfenv, module and newproxy raise "not available" errors; io, os, debug,
// package and coroutine are tables that raise on any use; require returns
// the built-in modules, or runs a library of Options.Libraries (name.lua in
// a lua folder, read through os.Root so that it cannot leave it) once per
// run, in the same sandbox; print goes to the log
// because stdout carries the tool's data; string.dump raises (gopher-lua has
// no bytecode dump); math.random draws from a generator seeded by
// Options.Seed, so a run repeated with the same seed draws the same numbers.
// The run's context (and Options.Timeout) stops the VM
// between any two instructions and is passed to the Caller, so an endless
// loop or a waiting call ends with "script stopped: timeout after 2s" or
// "script stopped: interrupted", and a script cannot swallow the stop with
// pcall. The call depth (about 1000), the value stack (256 Ki slots) and
// every conversion are bounded. The string functions that can build large
// strings or work long in one instruction (rep, find, match, gsub, gmatch,
// format, upper, lower, reverse, table.concat) are replaced by versions
// that work out their result's size first, refuse one beyond
// Options.MaxResultBytes, and check the context as they go; Compile turns
// the .. operator into a call of such a function too (see concat.go). A
// pattern search runs on its own goroutine, so that one that backtracks
// for ever is abandoned when the run stops. Memory is guarded: while a script
// runs, the process's Go heap is sampled every 50ms, and before each 64
// KiB of string results, and the script stops with "script stopped:
// memory limit of 512 MiB exceeded" once the heap has grown more than
// Options.MaxMemory beyond its size at the start. The heap is the whole
// process's (other runs and garbage not yet collected count too), and a
// table grows its array in one step between two samples, so the bound is
// approximate.
//
// # Functions for HCL
//
// A library may return a functions table; Libraries.Functions finds them
// and Libraries.Call calls one with JSON arguments, each call in a fresh
// state without API access, seeded by the function's name and bounded by
// Libraries.FunctionTimeout and FunctionMemory, and stopped at once when
// its context ends (an interrupt: "script stopped: interrupted"). Package
// lang calls them as lua::NAME through its LuaFunctions interface, under
// the command's context (lang.Scope.Context).
//
// # Errors
//
// Compile and Check return a *SyntaxError with line and column. Run
// returns a *ScriptError whose text is "report.lua:12: message", or, for
// an error in a library, "lua/util.lua:3: message (called from
// report.lua:4)". Calling or indexing what is not a function or table
// names it as written ("o.cal is not a function of o; did you mean
// o.call?"). The error wraps the *okru.Error of an uncaught okru.call
// failure (errors.As works) and the context's error of a stopped run
// (errors.Is(err, context.Canceled)).
package lua
