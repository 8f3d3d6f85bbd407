package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"iter"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/lang"
	"github.com/okru-run/okru-run/lang/lua"
	"github.com/okru-run/okru-run/okru"
	"github.com/zclconf/go-cty/cty"
)

// This file holds script steps: Lua run by package lang/lua. A script
// instance is scheduled, expanded by for_each, stopped and finished like a
// call instance (through execute and finishInstance); only its body
// differs. Every API call the script makes goes through the same session
// clients as call steps, so it shares their pacing, retries and redaction,
// and is reported as events of the script's step with FromScript set.

// compileScript compiles the Lua of a script step and binds its sessions:
// a script may call with any session, so it depends on all of them; its
// default is the one its session attribute names, or the only one.
func (w *Workflow) compileScript(n *node) hcl.Diagnostics {
	s := n.step.Script
	if s == nil {
		return nil
	}
	var diags hcl.Diagnostics
	sessions := n.scope.cfg.Sessions
	for _, sess := range sessions {
		if sn := n.scope.sessions[sess.Name]; sn != nil {
			link(n, sn)
		}
	}
	switch {
	case s.Session != "":
		n.sess = n.scope.sessions[s.Session]
		if n.scope.cfg.Session(s.Session) == nil {
			d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing session",
				Detail: fmt.Sprintf("%s names session %q, which is not declared.%s", n.addr.Local(), s.Session, declaredSessions(n.scope.cfg))}
			if s.SessionRange.Filename != "" { // not written in a file for okru-run script.lua -session
				d.Subject = s.SessionRange.Ptr()
			}
			diags = append(diags, d)
		}
	case len(sessions) == 1:
		n.sess = n.scope.sessions[sessions[0].Name]
	}
	script, err := lua.Compile(s.Name, s.Source)
	if err != nil {
		se, ok := errors.AsType[*lua.SyntaxError](err)
		if !ok {
			se = &lua.SyntaxError{File: s.Name, Line: 1, Msg: err.Error()}
		}
		return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Lua syntax error",
			Detail:  withName(n.addr.String(), se.Error()) + ".",
			Subject: s.Range(se.Line, se.Column).Ptr()})
	}
	n.script = script
	return diags
}

func declaredSessions(cfg *lang.Config) string {
	if len(cfg.Sessions) == 0 {
		return " Declare one with a session block."
	}
	names := make([]string, len(cfg.Sessions))
	for i, s := range cfg.Sessions {
		names[i] = s.Name
	}
	return " Declared sessions: " + strings.Join(quoteAll(names), ", ") + "."
}

// Scripts counts the script steps of the plan. Each is one opaque step:
// the calls it makes are known only as it runs.
func (p *Plan) Scripts() int {
	n := 0
	for _, s := range p.Steps {
		if s.Kind == lang.StepScript {
			n++
		}
	}
	return n
}

// evalInput evaluates the input of one script instance; null without one.
func evalInput(inst *instance) (cty.Value, hcl.Diagnostics) {
	expr := inst.node.step.Script.Input
	if expr == nil {
		return cty.NullVal(cty.DynamicPseudoType), nil
	}
	v, diags := expr.Value(inst.evalCtx())
	if diags.HasErrors() {
		return cty.DynamicVal, diags
	}
	return v, diags
}

// runScript runs one script instance on a worker. Its result is the
// script's return value; when the input holds a sensitive value the whole
// result is sensitive, as the engine cannot see what the script did with
// it.
func (r *runner) runScript(ctx context.Context, inst *instance) result {
	n := inst.node
	st := n.step
	res := result{inst: inst}
	input, diags := evalInput(inst)
	if diags.HasErrors() {
		res.diags = diags
		return res
	}
	sensitive := lang.IsSensitive(input)
	raw, err := lang.JSON(input)
	if err != nil {
		res.diags = hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid input",
			Detail: InstanceName(n.addr, inst.key) + ": " + err.Error() + ".", Subject: st.Script.Input.Range().Ptr()}}
		return res
	}
	c := r.newScriptCaller(inst)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	c.cancel = cancel
	if r.opts.Stop != nil {
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-r.opts.Stop:
				c.stop()
			case <-done:
			}
		}()
	}
	res.called = true
	r.obs.Observe(Event{Type: EventStarted, Step: n.addr, Key: inst.key, Method: lang.ScriptMethod})
	begin := time.Now()
	out, err := n.script.Run(ctx, lua.Options{
		Caller:  c,
		Input:   json.RawMessage(raw),
		Args:    st.Script.Args,
		Log:     c.log,
		Timeout: st.Timeout,
		Seed:    scriptSeed(InstanceName(n.addr, inst.key)),
		// The workflow's libraries (a module's own, in a module),
		// compiled once for the whole run.
		Libraries: n.scope.libs,
	})
	res.took = time.Since(begin)
	if err == nil {
		res.value, err = lang.ValueFromJSON(out)
	}
	if err != nil && errors.Is(context.Cause(ctx), errStopping) {
		res.err = fmt.Errorf("%s: %w", InstanceName(n.addr, inst.key), errStopping)
		return res
	}
	if err != nil {
		res.err = r.redact(err)
		res.diags = hcl.Diagnostics{scriptFailure(inst, res.err)}
		return res
	}
	if sensitive {
		res.value = lang.Sensitive(res.value)
	}
	return res
}

// scriptFailure is the diagnostic of a failed script instance, pointing at
// the line that failed when Lua knows it: in the script, or in a library
// it required (whose source the workflow registered when it loaded).
func scriptFailure(inst *instance, err error) *hcl.Diagnostic {
	s := inst.node.step.Script
	subject := inst.node.rng
	if se, ok := errors.AsType[*lua.ScriptError](err); ok && se.Line > 0 {
		src, inLibrary := inst.node.scope.libs.Sources()[se.File]
		switch {
		case se.File == s.Name:
			subject = s.Range(se.Line, 0)
		case inLibrary:
			subject = lineRange(se.File, src, se.Line)
		}
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Script failed",
		Detail: withName(InstanceName(inst.node.addr, inst.key), err.Error()), Subject: subject.Ptr()}
}

// withName starts msg with the step's name, unless it already does: inline
// scripts are named after their step, so their errors start with it.
func withName(name, msg string) string {
	if strings.HasPrefix(msg, name+":") {
		return msg
	}
	return name + ": " + msg
}

// scriptCaller is the lua.Caller of one script instance: it maps session
// names onto the run's session clients and reports every call as events
// of the instance.
type scriptCaller struct {
	r       *runner
	inst    *instance
	clients map[string]Caller
	names   []string // sorted
	def     string   // the default session; "" when there is none
	retry   *lang.Retry
	journal *scriptJournal // nil without state

	// A gentle stop (Options.Stop) lets the call in flight finish, then
	// stops the script: cancel ends its Lua run.
	mu       sync.Mutex
	inFlight bool
	stopping bool
	cancel   context.CancelCauseFunc
}

// errStopping ends a script when the run stops gently.
var errStopping = errors.New("the run is stopping")

// stop stops the script now, or once its call in flight is over.
func (c *scriptCaller) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopping = true
	if !c.inFlight {
		c.cancel(errStopping)
	}
}

// enter marks a call in flight; it fails once the run is stopping.
func (c *scriptCaller) enter(method string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.isStopping() {
		c.cancel(errStopping)
		return fmt.Errorf("call %s: %w", method, errStopping)
	}
	c.inFlight = true
	return nil
}

// isStopping reports whether the run is stopping, looking at Stop itself
// too, so that no call starts after it closed even before the watcher
// of runScript has seen it. c.mu is held.
func (c *scriptCaller) isStopping() bool {
	if !c.stopping {
		select {
		case <-c.r.opts.Stop:
			c.stopping = true
		default:
		}
	}
	return c.stopping
}

// leave marks the call in flight over, and stops the script if the run
// began stopping meanwhile.
func (c *scriptCaller) leave() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inFlight = false
	if c.isStopping() {
		c.cancel(errStopping)
	}
}

var _ lua.Caller = (*scriptCaller)(nil)

func (r *runner) newScriptCaller(inst *instance) *scriptCaller {
	n := inst.node
	c := &scriptCaller{r: r, inst: inst, clients: map[string]Caller{}, retry: n.step.Retry, journal: r.newScriptJournal(inst)}
	// In a module, the names are the module's, bound to the caller's
	// sessions.
	for name, sn := range n.scope.sessions {
		if client := r.callers[sn]; client != nil {
			c.clients[name] = client
			c.names = append(c.names, name)
		}
	}
	slices.Sort(c.names)
	if n.sess != nil {
		// The name the script knows it by: compileScript bound n.sess
		// from its session attribute, or from the only session.
		c.def = n.step.Script.Session
		if c.def == "" {
			c.def = n.scope.cfg.Sessions[0].Name
		}
	}
	return c
}

// Sessions lists the sessions a script may name.
func (c *scriptCaller) Sessions() []string { return c.names }

// Call makes one call for the script, as a call step would, journaled
// one by one when the run keeps state (see script_journal.go).
func (c *scriptCaller) Call(ctx context.Context, session, method string, params map[string]any) (json.RawMessage, error) {
	client, err := c.client(session, method, params)
	if err != nil {
		return nil, err
	}
	jc := c.journal.next(method, params)
	if rep, ok := c.journal.replay(jc); ok {
		c.replayed(method, rep.err)
		return rep.raw, rep.err
	}
	if err := c.enter(method); err != nil {
		return nil, err
	}
	defer c.leave()
	if err := c.journal.begin(jc); err != nil {
		c.replayed(method, err)
		return nil, err
	}
	c.emit(Event{Type: EventStarted, Method: method})
	begin := time.Now()
	var raw json.RawMessage
	if isUploadMethod(method) {
		raw, err = c.r.scriptUpload(ctx, client, jc, method, params)
	} else {
		raw, err = client.Call(ctx, method, okru.Params(params), c.options(method)...)
	}
	c.journal.end(jc, raw, err)
	c.finish(ctx, method, begin, 0, err)
	if err != nil {
		return nil, c.r.redact(err)
	}
	return raw, nil
}

// replayed reports a call answered from the journal of the run being
// resumed.
func (c *scriptCaller) replayed(method string, err error) {
	switch {
	case err == nil:
		c.emit(Event{Type: EventReused, Method: method})
	case errors.Is(err, CodeOutcomeUnknown):
		c.emit(Event{Type: EventUnknown, Method: method,
			Reason: "sent by the run being resumed, which stopped before its answer was recorded; not sent again"})
	default:
		c.emit(Event{Type: EventFailed, Method: method, Err: err})
	}
}

// Pages follows the pages of a list method for okru.paginate. The call is
// reported once, finished with the number of pages the script read.
func (c *scriptCaller) Pages(ctx context.Context, session, method string, params map[string]any) iter.Seq2[json.RawMessage, error] {
	return func(yield func(json.RawMessage, error) bool) {
		client, err := c.client(session, method, params)
		if err != nil {
			yield(nil, err)
			return
		}
		jc := c.journal.next(method, params)
		begin := time.Now()
		pages, live := 0, false
		follow := func() iter.Seq2[json.RawMessage, error] {
			if err := c.enter(method); err != nil {
				return func(yield func(json.RawMessage, error) bool) { yield(nil, err) }
			}
			live = true
			c.emit(Event{Type: EventStarted, Method: method})
			return client.Pages(ctx, method, okru.Params(params), c.options(method)...)
		}
		defer func() {
			if live {
				c.leave()
			}
		}()
		for raw, err := range c.journal.pages(jc, follow) {
			if err != nil {
				if live {
					c.finish(ctx, method, begin, pages, err)
				} else {
					c.replayed(method, err)
				}
				yield(nil, c.r.redact(err))
				return
			}
			pages++
			if !yield(raw, nil) {
				break
			}
		}
		if live {
			c.finish(ctx, method, begin, pages, nil)
		} else {
			c.replayed(method, nil)
		}
	}
}

// client finds the session's client and checks the parameters the session
// sets itself.
func (c *scriptCaller) client(session, method string, params map[string]any) (Caller, error) {
	for _, k := range reservedParams {
		if _, ok := params[k]; ok {
			return nil, fmt.Errorf("call %s: %s is set by the session when the call is signed; remove it from params", method, k)
		}
	}
	if session == "" {
		session = c.def
	}
	if session == "" {
		if len(c.names) == 0 {
			return nil, fmt.Errorf("call %s: no session to call with: declare a session block (okru-run script.lua reads one from OKRU_APP_KEY and OKRU_ACCESS_TOKEN, or takes -config FILE.hcl or -sandbox)", method)
		}
		return nil, fmt.Errorf("call %s: the run has several sessions (%s), so the script must name one, as in okru.call(%q, params, %q), or have a default session (session in a script block, -session for okru-run script.lua)",
			method, strings.Join(quoteAll(c.names), ", "), method, c.names[0])
	}
	client := c.clients[session]
	if client == nil {
		return nil, fmt.Errorf("call %s: unknown session %q (known: %s)", method, session, strings.Join(c.names, ", "))
	}
	return client, nil
}

// options are the call options of a call step: retries reported as
// events, and the step's retry block.
func (c *scriptCaller) options(method string) []okru.CallOption {
	opts := []okru.CallOption{okru.OnRetry(func(ri okru.RetryInfo) {
		c.emit(Event{Type: EventRetried, Method: method, Attempt: ri.Attempt, Wait: ri.Wait, Err: c.r.redact(ri.Err)})
	})}
	if c.retry != nil {
		opts = append(opts, okru.WithRetry(okru.RetryPolicy{MaxAttempts: c.retry.Attempts,
			MinBackoff: c.retry.Backoff, MaxBackoff: c.retry.MaxBackoff}))
	}
	return opts
}

// finish reports how a call of the script ended. A call cut short because
// the script was stopped is skipped, not failed: the step's own event says
// why it stopped.
func (c *scriptCaller) finish(ctx context.Context, method string, begin time.Time, pages int, err error) {
	e := Event{Method: method, Elapsed: time.Since(begin), Pages: pages}
	switch {
	case err == nil:
		e.Type = EventFinished
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		e.Type, e.Reason = EventSkipped, "interrupted"
		if !errors.Is(ctx.Err(), context.Canceled) {
			e.Reason = "the script's timeout passed"
		}
	default:
		e.Type, e.Err = EventFailed, c.r.redact(err)
	}
	c.emit(e)
}

// log sends a line the script logged to the event stream.
func (c *scriptCaller) log(msg string) {
	c.r.obs.Observe(Event{Type: EventLog, Step: c.inst.node.addr, Key: c.inst.key,
		Message: okru.Redact(msg, c.r.secrets...)})
}

func (c *scriptCaller) emit(e Event) {
	e.Step, e.Key, e.FromScript = c.inst.node.addr, c.inst.key, true
	c.r.obs.Observe(e)
}

// scriptSeed seeds math.random from the instance's name, so that every run
// of one instance, a resumed one included, draws the same numbers.
func scriptSeed(instance string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(instance))
	return h.Sum64()
}

// checkLibraries loads the workflow's Lua libraries to find the functions
// they declare, so that a library that does not compile or load, or
// declares bad functions, stops the workflow before any call.
func (w *Workflow) checkLibraries() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, libs := range w.allLibraries() {
		diags = append(diags, w.checkLibrary(libs)...)
	}
	return diags
}

// checkLibrary checks the libraries of one folder (and -lua-path).
func (w *Workflow) checkLibrary(libs *lua.Libraries) hcl.Diagnostics {
	_, err := libs.Functions(context.Background())
	sources := libs.Sources()
	for file, src := range sources {
		w.cfg.AddSource(file, src)
	}
	if err == nil {
		return nil
	}
	d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid Lua library", Detail: err.Error() + "."}
	if se, ok := errors.AsType[*lua.ScriptError](err); ok {
		// It raised while loading, as one that calls the API at its top
		// level does.
		d.Detail += " Libraries in the lua folder run once when the workflow loads, without API access: a library must not call the API when it loads."
		if se.Line > 0 {
			d.Subject = lineRange(se.File, sources[se.File], se.Line).Ptr()
		}
	}
	if se, ok := errors.AsType[*lua.SyntaxError](err); ok {
		d.Summary = "Lua syntax error"
		d.Subject = lineRange(se.File, sources[se.File], se.Line).Ptr()
	}
	return hcl.Diagnostics{d}
}

// lineRange is the range of line n (1-based) of src, for a snippet.
func lineRange(file string, src []byte, n int) hcl.Range {
	start := 0
	for line := 1; line < n; line++ {
		i := bytes.IndexByte(src[start:], '\n')
		if i < 0 {
			break
		}
		start += i + 1
	}
	end := start
	if i := bytes.IndexByte(src[start:], '\n'); i >= 0 {
		end = start + i
	} else {
		end = len(src)
	}
	return hcl.Range{Filename: file,
		Start: hcl.Pos{Line: n, Column: 1, Byte: start},
		End:   hcl.Pos{Line: n, Column: end - start + 1, Byte: end}}
}
