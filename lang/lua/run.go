package lua

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"time"

	glua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Caller is how scripts reach the ok.ru API. The engine implements it with
// the same client, rate limits, retries, journal and events as HCL calls;
// this package never talks HTTP itself.
type Caller interface {
	// Call calls method with params for the named session ("" means the
	// default session) and returns the raw JSON result. Params hold the
	// values described in the package doc: string, json.Number, bool, nil,
	// []any and map[string]any (the okru client sends lists comma-joined
	// and objects as JSON). An API error should be, or wrap, an *okru.Error.
	Call(ctx context.Context, session, method string, params map[string]any) (json.RawMessage, error)
	// Pages calls a paged method repeatedly, following its anchor, and
	// yields each page's raw JSON result. The iteration may be abandoned
	// early (the script left its loop).
	Pages(ctx context.Context, session, method string, params map[string]any) iter.Seq2[json.RawMessage, error]
	// Sessions lists every session name Call and Pages accept.
	Sessions() []string
}

// DefaultMaxResultBytes is the bound on a script's JSON result (and on any
// single json.encode or okru.call params value) when Options.MaxResultBytes
// is zero.
const DefaultMaxResultBytes = 16 << 20

// Bounds of every Lua state, so that runaway recursion or unpack of a huge
// range fails with a Lua error instead of exhausting memory.
const (
	callStackSize   = 1024       // nested Lua calls ("stack overflow" beyond)
	registrySize    = 256 * 20   // initial value stack slots (gopher-lua's default)
	registryMaxSize = 256 * 1024 // value stack slots at most (4 MiB)
	// registryGrowStep is large because gopher-lua grows the value stack
	// linearly, copying it each time: with its default of 32 slots, filling
	// it up to registryMaxSize takes seconds.
	registryGrowStep = 1 << 15
)

// Options configure one run. The zero value runs a script with no API
// access, no input, no arguments and logs discarded.
type Options struct {
	// Caller gives the script okru.call, okru.pcall, okru.paginate and
	// okru.sessions. Without one these raise "no API access" errors and
	// okru.sessions() is empty.
	Caller Caller
	// Input becomes the global `input`. It is a Go value of the family
	// encoding/json decodes into (map[string]any, []any, string,
	// json.Number, float64, bool, nil); Go integers, json.RawMessage, typed
	// slices and maps with string keys are accepted too. It is converted by
	// the rules of the package doc, so ids beyond 2^53 arrive as strings.
	Input any
	// Args become the global `args` (a sequence of strings) and the main
	// chunk's `...`.
	Args []string
	// Log receives each log(...) and print(...) line. nil discards them.
	Log func(msg string)
	// MaxResultBytes bounds the JSON size of the result, of a json.encode
	// and of one okru.call's params, and the length of a string built by
	// the .. operator, string.rep, gsub, format, upper, lower, reverse or
	// table.concat. 0 means DefaultMaxResultBytes.
	MaxResultBytes int
	// Timeout stops the script after this long ("script stopped: timeout
	// after 2s"). 0 leaves it to ctx.
	Timeout time.Duration
	// Seed seeds math.random. Each run starts from it, so a script run
	// again with the same seed draws the same numbers: a resumed run
	// replays a script's calls only if the script makes the same ones.
	// math.randomseed(n) reseeds for the rest of the run.
	Seed uint64
	// MaxMemory stops the script ("script stopped: memory limit of 512 MiB
	// exceeded") when the process's Go heap grows more than this many bytes
	// beyond what it was when the run started. It is sampled every 50ms
	// and before every 64 KiB of strings built, and counts the whole
	// process, so it is approximate (see guardMemory). 0 means
	// DefaultMaxMemory; negative turns the guard off.
	MaxMemory int64
	// Libraries are what require(name) loads beyond the built-in modules;
	// nil gives only the built-in ones.
	Libraries *Libraries
}

// Script is a compiled Lua script. It is immutable and may be run many
// times, concurrently, each run in a fresh sandboxed state.
type Script struct {
	name  string
	proto *glua.FunctionProto
}

// Compile parses and compiles source. name is the file name used in
// positions ("report.lua"). A script that does not compile gives a
// *SyntaxError.
func Compile(name string, source []byte) (*Script, error) {
	chunk, err := parse.Parse(bytes.NewReader(source), name)
	if err != nil {
		return nil, newSyntaxError(name, source, err)
	}
	proto, err := glua.Compile(boundConcat(chunk), name)
	if err != nil {
		return nil, newSyntaxError(name, source, err)
	}
	return &Script{name: name, proto: proto}, nil
}

// Check compiles source without running it, for `okru-run validate`. Its
// error is a *SyntaxError.
func Check(name string, source []byte) error {
	_, err := Compile(name, source)
	return err
}

// Run compiles and runs source in a fresh sandboxed state and returns the
// script's return value as compact JSON.
func Run(ctx context.Context, name string, source []byte, opts Options) (json.RawMessage, error) {
	s, err := Compile(name, source)
	if err != nil {
		return nil, err
	}
	return s.Run(ctx, opts)
}

// Name returns the file name the script was compiled with.
func (s *Script) Name() string { return s.name }

// Run runs the script in a fresh sandboxed state and returns its first
// return value as compact JSON ("null" when it returns nothing). Errors are
// *ScriptError, except a bad Options.Input, which is the host's mistake.
//
// The script stops when ctx ends or Options.Timeout passes, also in an
// endless loop or while an okru.call waits; the error then wraps
// ctx.Err().
func (s *Script) Run(ctx context.Context, opts Options) (json.RawMessage, error) {
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, opts.Timeout, &timeoutError{opts.Timeout})
		defer cancel()
	}
	var guard *memoryGuard
	if opts.MaxMemory >= 0 {
		limit := opts.MaxMemory
		if limit == 0 {
			limit = DefaultMaxMemory
		}
		var stop func()
		ctx, guard, stop = guardMemory(ctx, limit)
		defer stop()
	}
	r, err := newRuntime(s.name, opts)
	if err != nil {
		return nil, err
	}
	defer r.close()
	r.guard = guard
	if ctx.Err() != nil {
		return nil, &ScriptError{File: s.name, Msg: stopMessage(ctx), Err: ctx.Err()}
	}

	L := r.L
	L.Push(L.NewFunctionFromProto(s.proto))
	for _, a := range opts.Args {
		L.Push(glua.LString(a))
	}
	L.SetContext(ctx)
	if err := r.protectedCall(len(opts.Args), 1); err != nil {
		return nil, err
	}
	L.RemoveContext()
	out, err := r.encodeJSON(L.Get(-1), "result")
	if err != nil {
		return nil, &ScriptError{File: s.name, Msg: err.Error(), Err: err}
	}
	return out, nil
}

// runtime is the state of one run: the Lua state and what the Go functions
// installed in it need.
type runtime struct {
	L        *glua.LState
	name     string
	caller   Caller
	log      func(string)
	limit    int
	sessions []string

	null     *glua.LUserData // json.null
	objectMT *glua.LTable    // the metatable json.object sets
	errorMT  *glua.LTable    // the metatable of okru.call errors
	modules  map[string]glua.LValue

	// libs are the libraries require may load; loading and loadOrder
	// catch a library that requires itself.
	libs      *Libraries
	loading   map[string]bool
	loadOrder []string
	// noAPI, when set, is why this state has no API access.
	noAPI string

	// stops end the page iterators a script left unfinished.
	stops []func()

	// rng serves math.random; gopher-lua's own draws from Go's global
	// generator, which no seed can make repeatable.
	rng *rand.Rand

	// guard is the run's memory guard, nil when it is off; unchecked
	// counts the bytes of results built since reserve last asked it.
	guard     *memoryGuard
	unchecked int

	// failure is what the message handler of the last protectedCall saw.
	failure *failure
}

func newRuntime(name string, opts Options) (*runtime, error) {
	r := &runtime{
		name:    name,
		caller:  opts.Caller,
		log:     opts.Log,
		limit:   opts.MaxResultBytes,
		libs:    opts.Libraries,
		loading: map[string]bool{},
		rng:     newRand(opts.Seed),
		L: glua.NewState(glua.Options{
			SkipOpenLibs: true,
			// The call stack grows as needed up to callStackSize instead of
			// being allocated whole: most scripts nest a few calls deep.
			MinimizeStackMemory: true,
			CallStackSize:       callStackSize,
			RegistrySize:        registrySize,
			RegistryMaxSize:     registryMaxSize,
			RegistryGrowStep:    registryGrowStep,
		}),
	}
	if r.limit <= 0 {
		r.limit = DefaultMaxResultBytes
	}
	if r.caller != nil {
		r.sessions = slices.Clone(r.caller.Sessions())
	}
	r.install()
	input, err := r.toLua(opts.Input, &path{root: "input"}, 0)
	if err != nil {
		r.close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	r.L.SetGlobal("input", input)
	args := r.L.CreateTable(len(opts.Args), 0)
	for _, a := range opts.Args {
		args.Append(glua.LString(a))
	}
	r.L.SetGlobal("args", args)
	return r, nil
}

func (r *runtime) close() {
	for _, stop := range r.stops {
		stop()
	}
	r.L.Close()
}
