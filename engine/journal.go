package engine

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/engine/state"
	"github.com/okru-run/okru-run/lang"
	"github.com/okru-run/okru-run/lang/lua"
	"github.com/okru-run/okru-run/okru"
	"github.com/zclconf/go-cty/cty"
)

// This file makes runs durable and resumable. A run with StateOptions
// records every call instance in a journal (package state) as it ends:
//
//   - a read (a method okru.IsReadOnly knows) gets a done record with its
//     result, group-committed: a crash loses at most the last few, and a
//     resumed run simply repeats them, as reads change nothing;
//   - a write gets a start record, on disk before its request is sent, and
//     a done record (or a failed one when the server refused it) after.
//     A write whose start has no end is "outcome unknown": it may or may
//     not have taken effect, so a resumed run reports it and does not send
//     it again unless RetryUnknown says so;
//   - a script instance counts as a write: the Lua may have changed things.
//     Its calls are journaled one by one (see script_journal.go), so a
//     resumed run runs an unfinished script again, answering the calls
//     recorded from the journal, and only a finished script is reused.
//
// A resumed run uses the recorded results of finished instances instead of
// calling again. Each record carries a hash of the instance's parameters
// (as shown, with sensitive values hidden), so an instance whose
// parameters came out differently this time is not mistaken for the one
// recorded: a read is repeated, a write is refused.
//
// The journal never holds a secret: parameters are stored as plans show
// them (sensitive values as "(sensitive)"), and every stored text goes
// through okru.Redact with the run's credentials and sensitive values.

// StateOptions make a run durable and resumable.
type StateOptions struct {
	// Path is the journal file; its folder is created if needed.
	Path string
	// Workflow is the workflow's path as the user gave it, recorded for
	// messages.
	Workflow string
	// Resume continues the run recorded at Path: finished calls are not
	// repeated, their results feed later steps. The workflow, its
	// variables and the shard must be those of the recorded run. Without
	// a recorded run, Resume starts a new one.
	Resume bool
	// Fresh discards what Path holds and starts over.
	Fresh bool
	// RetryUnknown sends again the writes whose outcome is unknown.
	RetryUnknown bool
	// Secrets are more strings never to store, on top of the sessions'
	// credentials and sensitive variables the engine knows (the CLI adds
	// the sandbox's credentials).
	Secrets []string
}

// journal is the engine's side of a run's state.
type journal struct {
	st           *state.Journal
	resumed      bool // the run continues a recorded one
	retryUnknown bool
	secrets      []string
	secretForms  [][]byte // see mayHoldSecret
	errMu        sync.Mutex
	err          error // the first failure to record; reported at the end; guarded by errMu
	// scriptWrites are the writes of each script instance in the recorded
	// run, by instance name; set when the run resumes.
	scriptWrites map[string][]scriptWrite
}

// journalCall is one instance being recorded.
type journalCall struct {
	id     string
	method string
	write  bool
	hash   string
}

// replayKind says how an instance was settled from the journal.
type replayKind int

const (
	replayNone    replayKind = iota
	replayReused             // finished in an earlier run: its result is used
	replayUnknown            // a write sent by an earlier run whose outcome is unknown
)

// openJournal locks and reads the journal, and decides whether this run
// continues the recorded one or starts over. It runs after the sessions
// are set up, so a run that cannot start leaves no state behind.
func (r *runner) openJournal() hcl.Diagnostics {
	so := r.opts.State
	if so == nil {
		return nil
	}
	st, err := state.Open(so.Path)
	if err != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot use the state", Detail: capitalize(err.Error()) + "."}}
	}
	old, recorded := st.Header()
	salt, err := newSalt()
	if err != nil {
		st.Close()
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot use the state", Detail: capitalize(err.Error()) + "."}}
	}
	if recorded && so.Resume && !so.Fresh {
		// The variables are compared by the recorded run's salt.
		salt = old.Salt
	}
	h := r.w.fingerprint(r.in, r.opts.Shard, so.Workflow, salt)
	var diags hcl.Diagnostics
	resumed := false
	switch {
	case !recorded || so.Fresh:
	case so.Resume:
		if why := fingerprintChange(old, h); why != "" {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "The state belongs to another run",
				Detail: fmt.Sprintf("%s was recorded by a run of this workflow that differs from this one: %s. A resumed run must be the same run, or finished calls could be repeated or skipped wrongly. Undo the change and resume, or start over with -fresh (the recorded run's writes may then be sent again), or keep that state and give this run another one with -state.",
					so.Path, why)})
		}
		resumed = true
	case st.Ended() || st.Writes() == 0:
		// The recorded run finished, or it only read: starting over
		// repeats nothing that matters.
	default:
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unfinished run in the state",
			Detail: fmt.Sprintf("%s holds a run that did not finish and sent %s. Continue it with -resume (finished calls are not repeated), or start over with -fresh (its writes may then be sent again).",
				so.Path, pluralize(st.Writes(), "write"))})
	}
	if !diags.HasErrors() && !resumed {
		if err := st.Reset(h); err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot use the state", Detail: capitalize(err.Error()) + "."})
		}
	}
	if diags.HasErrors() {
		st.Close()
		return diags
	}
	// Not stopped by the run's end: the list must be whole, and the
	// locals it evaluates have just been evaluated by setup.
	secrets := append(slices.Clone(so.Secrets), r.w.Secrets(context.WithoutCancel(r.ctx), r.in)...)
	secrets = append(secrets, r.secrets...)
	r.journal = &journal{st: st, resumed: resumed, retryUnknown: so.RetryUnknown, secrets: secrets, secretForms: secretForms(secrets)}
	if resumed {
		r.journal.indexScriptWrites()
	}
	e := Event{Type: EventState, Key: cty.NilVal, Path: so.Path, Resumed: resumed}
	if resumed {
		e.Recorded = st.Records()
	}
	r.obs.Observe(e)
	return nil
}

// closeJournal marks a run that did everything as ended, so that the next
// run starts over without -resume, and closes the journal.
func (r *runner) closeJournal(complete bool) hcl.Diagnostics {
	j := r.journal
	if j == nil {
		return nil
	}
	var errs []error
	j.errMu.Lock()
	recordErr := j.err
	j.errMu.Unlock()
	if recordErr != nil {
		errs = append(errs, recordErr)
	}
	if complete && recordErr == nil {
		if err := j.st.Append(&state.Record{Kind: state.KindEnd}); err != nil {
			errs = append(errs, err)
		}
	}
	if err := j.st.Close(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil
	}
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "The state is incomplete",
		Detail: fmt.Sprintf("%s: %s. Calls that could not be recorded will be repeated by a resumed run if they were reads; writes are never sent unrecorded.",
			j.st.Path(), okru.Redact(errors.Join(errs...).Error(), j.secrets...))}}
}

// replay settles an instance of a resumed run from the journal, when the
// journal has a record of it: reused, outcome unknown, or refused because
// a write's parameters changed. Otherwise the instance runs.
func (r *runner) replay(inst *instance) (result, bool) {
	j := r.journal
	if j == nil || !j.resumed {
		return result{}, false
	}
	n := inst.node
	id := InstanceName(n.addr, inst.key)
	e, ok := j.st.Lookup(id)
	if !ok || e.Kind == state.KindFailed {
		return result{}, false
	}
	args, diags := instanceArgs(inst)
	if diags.HasErrors() {
		return result{}, false // the run reports it
	}
	res := result{inst: inst}
	switch {
	case e.Kind == state.KindStart && n.step.Script != nil:
		// An unfinished script runs again, its recorded calls answered
		// from the journal.
		return result{}, false
	case e.Kind == state.KindStart && j.retryUnknown:
		return result{}, false
	case e.Kind == state.KindStart:
		res.replay = replayUnknown
		return res, true
	case e.Hash != argsHash(args) && e.Write:
		res.err = fmt.Errorf("%s was sent by the recorded run with other parameters than it has now, so the run cannot tell whether it still has to be sent; it was not sent. Start over with -fresh if it must be", id)
		res.diags = hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Changed since it was sent",
			Detail: res.err.Error() + ".", Subject: n.rng.Ptr()}}
		return res, true
	case e.Hash != argsHash(args) || (e.Redacted && !e.Write):
		// A read whose recorded result no longer fits, or was stored
		// without a secret it held: repeat it.
		return result{}, false
	case e.Redacted && r.needed[n.index]:
		// A write or a script cannot be repeated, and its record is not
		// its result: a secret was cut out of it.
		res.err = fmt.Errorf("%s was done by the recorded run, but its recorded result held a secret, which the state does not keep, so it cannot be reused; it was not done again. Start over with -fresh if it must be", id)
		res.diags = hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Recorded result held a secret",
			Detail: res.err.Error() + ".", Subject: n.rng.Ptr()}}
		return res, true
	}
	res.replay = replayReused
	if r.needed[n.index] {
		raw, err := j.st.Result(e)
		if err == nil {
			res.value, err = lang.ValueFromJSON(raw)
		}
		if err != nil {
			res.err = fmt.Errorf("%s: %w", id, err)
			res.diags = hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read the state",
				Detail: res.err.Error() + ". Start over with -fresh.", Subject: n.rng.Ptr()}}
			return res, true
		}
		if lang.IsSensitive(args) {
			res.value = lang.Sensitive(res.value)
		}
	}
	return res, true
}

// instanceArgs evaluates what identifies an instance's work: a call's
// params, a script's input.
func instanceArgs(inst *instance) (cty.Value, hcl.Diagnostics) {
	if inst.node.step.Script != nil {
		return evalInput(inst)
	}
	if inst.node.step.Upload != nil {
		return evalUploadArgs(inst)
	}
	return evalParams(inst)
}

// argsHash identifies an instance's parameters: a hash of their canonical
// form (see appendCanonical), in which sensitive values are hidden, as the
// journal must not hold even a hash of a secret.
func argsHash(args cty.Value) string {
	return canonicalHash(func(b []byte) []byte { return appendCanonical(b, args) })
}

// canonicalHash returns the hash of what appendTo appends: the first 16
// bytes of its SHA-256, in hex.
func canonicalHash(appendTo func([]byte) []byte) string {
	bp := canonicalBuf.Get().(*[]byte)
	b := appendTo((*bp)[:0])
	sum := sha256.Sum256(b)
	if cap(b) <= 64<<10 {
		*bp = b
		canonicalBuf.Put(bp)
	}
	return hex.EncodeToString(sum[:16])
}

var canonicalBuf = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// appendCanonical appends an unambiguous encoding of v: a tag per kind,
// strings with their length, collections in cty's order (sorted keys).
// A sensitive value, or one holding a sensitive part, is only a tag. It
// runs for every call of a journaled run, so it avoids the allocations of
// a JSON encoding.
func appendCanonical(b []byte, v cty.Value) []byte {
	// Marks are looked at level by level: a deep search at every level
	// would cost more than the hash.
	if v.IsMarked() {
		if lang.IsSensitive(v) {
			return append(b, 'S')
		}
		v, _ = v.Unmark()
	}
	switch {
	case !v.IsKnown():
		return append(b, 'U')
	case v.IsNull():
		return append(b, 'N')
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		s := v.AsString()
		b = append(b, 's')
		b = binary.AppendUvarint(b, uint64(len(s)))
		return append(b, s...)
	case ty == cty.Number:
		b = append(b, 'n')
		b = append(b, lang.NumberText(v.AsBigFloat())...)
		return append(b, 0)
	case ty == cty.Bool:
		if v.True() {
			return append(b, 't')
		}
		return append(b, 'f')
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType():
		b = append(b, '[')
		for it := v.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			b = appendCanonical(b, ev)
		}
		return append(b, ']')
	case ty.IsMapType() || ty.IsObjectType():
		b = append(b, '{')
		for it := v.ElementIterator(); it.Next(); {
			k, ev := it.Element()
			key := k.AsString()
			b = binary.AppendUvarint(b, uint64(len(key)))
			b = append(b, key...)
			b = appendCanonical(b, ev)
		}
		return append(b, '}')
	}
	return append(b, '?')
}

// begin records that an instance is about to run. A write's start record
// is on disk before begin returns; if it cannot be written the write must
// not be sent.
func (j *journal) begin(inst *instance, method string, args cty.Value) (*journalCall, error) {
	if j == nil {
		return nil, nil
	}
	return j.beginHashed(inst, method, args, argsHash(args))
}

// beginHashed is begin given argsHash(args), which is all a read needs:
// args may then be cty.NilVal (see runner.execute).
func (j *journal) beginHashed(inst *instance, method string, args cty.Value, hash string) (*journalCall, error) {
	if j == nil {
		return nil, nil
	}
	jc := &journalCall{id: InstanceName(inst.node.addr, inst.key), method: method,
		write: isWrite(inst, method), hash: hash}
	if !jc.write {
		return jc, nil
	}
	params := j.redactJSON(lang.DisplayJSON(args))
	err := j.st.AppendDurable(&state.Record{Kind: state.KindStart, ID: jc.id, Method: method, Write: true, Hash: jc.hash, Params: params})
	if err != nil {
		return nil, fmt.Errorf("%s was not sent: it could not be recorded in the state first: %w", jc.id, err)
	}
	return jc, nil
}

// isWrite reports whether an instance counts as a write for the journal:
// a script, an upload, or a call of a method not known as read-only.
func isWrite(inst *instance, method string) bool {
	return inst.node.step.Script != nil || inst.node.step.Upload != nil || !okru.IsReadOnly(method)
}

// end records how an instance ended. raw is a call's answer as it came;
// nil means the result is encoded from res.value.
func (j *journal) end(jc *journalCall, res *result, raw json.RawMessage) {
	if j == nil || jc == nil {
		return
	}
	switch {
	case res.err == nil && !res.diags.HasErrors() && lang.IsSensitive(res.value):
		// A result made from a secret (a script's string.upper(input.x))
		// need not hold it as it is: it is not stored, nor reused.
		j.record(&state.Record{Kind: state.KindDone, ID: jc.id, Method: jc.method, Write: jc.write, Hash: jc.hash,
			Result: json.RawMessage(`"(sensitive)"`), Redacted: true}, jc.write)
	case res.err == nil && !res.diags.HasErrors():
		if raw == nil {
			v, _ := res.value.UnmarkDeep()
			var err error
			if raw, err = lang.JSON(v); err != nil {
				raw = json.RawMessage("null")
			}
		}
		j.recordDone(jc.id, jc.method, jc.write, jc.hash, raw)
	case jc.write && res.inst.node.step.Script == nil && notApplied(res.err):
		j.record(&state.Record{Kind: state.KindFailed, ID: jc.id, Method: jc.method, Write: true, Hash: jc.hash,
			Error: okru.Redact(res.err.Error(), j.secrets...)}, true)
	}
	// Otherwise a failed read is simply run again, and a write or a script
	// that may have taken effect keeps its start record alone: its outcome
	// is unknown.
}

// recordDone records a call that answered raw, with the secrets it may
// echo replaced. A write's record is durable before it returns.
func (j *journal) recordDone(id, method string, write bool, hash string, raw json.RawMessage) {
	redacted := false
	if j.mayHoldSecret(raw) {
		clean := j.redactJSON(raw)
		if redacted = !bytes.Equal(clean, raw); redacted {
			raw = clean
		}
	}
	j.record(&state.Record{Kind: state.KindDone, ID: id, Method: method, Write: write, Hash: hash,
		Result: raw, Redacted: redacted}, write)
}

// record appends rec, durably when asked; a failure is reported at the
// end of the run.
func (j *journal) record(rec *state.Record, durable bool) {
	var err error
	if durable {
		err = j.st.AppendDurable(rec)
	} else {
		err = j.st.Append(rec)
	}
	if err == nil {
		return
	}
	// Workers record concurrently.
	j.errMu.Lock()
	if j.err == nil {
		j.err = err
	}
	j.errMu.Unlock()
}

// redactJSON returns a JSON value with the run's secrets replaced. A
// secret may match JSON syntax (a short PIN is also a number in
// {"n":1234}), and a record must stay valid JSON: then the redacted text
// is kept as a JSON string.
func (j *journal) redactJSON(raw []byte) json.RawMessage {
	text := string(raw)
	clean := okru.Redact(text, j.secrets...)
	if clean == text {
		return raw
	}
	if !json.Valid([]byte(clean)) {
		b, _ := json.Marshal(clean)
		return b
	}
	return json.RawMessage(clean)
}

// mayHoldSecret tells, without copying, whether a result may need
// okru.Redact: it holds a secret as it is, a byte that starts an escape
// (JSON, HCL, URL: a secret may hide behind one), or a "name=value" that
// Redact looks at. Most results hold none of them.
func (j *journal) mayHoldSecret(raw []byte) bool {
	if bytes.ContainsAny(raw, `=\%+$`) {
		return true
	}
	for _, s := range j.secretForms {
		if bytes.Contains(raw, s) {
			return true
		}
	}
	return false
}

// secretForms lists every secret as it is: without a byte that starts an
// escape, that is the one form a secret can take in a result.
func secretForms(secrets []string) [][]byte {
	var out [][]byte
	for _, s := range secrets {
		if s != "" {
			out = append(out, []byte(s))
		}
	}
	return out
}

// notApplied reports whether a write that failed with err surely did not
// take effect, so that sending it again is safe: the server answered an
// error, or the request never left. A request that was sent and whose
// answer was lost or garbled (a transport failure after sending, a proxy's
// page, a cancelled call) may have taken effect.
func notApplied(err error) bool {
	if err == nil {
		return false
	}
	if apiErr, ok := errors.AsType[*okru.Error](err); ok && apiErr != nil {
		return true
	}
	if te, ok := errors.AsType[*okru.TransportError](err); ok {
		return !te.Sent
	}
	if _, ok := errors.AsType[*okru.DecodeError](err); ok {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	// Anything else failed before a request was made: a bad method name,
	// a session rule, parameters that cannot be encoded.
	return true
}

// newSalt returns a random salt, in hex, for the variables' hash.
func newSalt() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make a salt for the state: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// fingerprint identifies a run for -resume: the workflow's files (and
// scripts with their arguments), the variables' values and the shard. Only
// hashes are kept, the variables' salted with salt (hex, stored in the
// header); a sensitive variable contributes its name only, so neither it
// nor a hash of it that could be checked against guesses reaches the
// state.
func (w *Workflow) fingerprint(in Inputs, sh Shard, path, salt string) state.Header {
	files := sha256.New()
	for _, name := range w.sourceFiles() {
		b := w.cfg.Files()[name].Bytes
		fmt.Fprintf(files, "%s\x00%d\x00", filepath.Base(name), len(b))
		files.Write(b)
	}
	for _, n := range w.nodes { // the scripts of modules too
		if st := n.step; st != nil && st.Script != nil {
			fmt.Fprintf(files, "script %s\x00%d\x00", n.addr, len(st.Script.Source))
			io.WriteString(files, string(st.Script.Source))
			// okru-run script.lua ARGS: other arguments make another run.
			for _, a := range st.Script.Args {
				fmt.Fprintf(files, "arg %d\x00%s", len(a), a)
			}
		}
	}
	// The Lua libraries: a changed lua:: function may give other
	// parameters, a changed library another script.
	libDir := filepath.Join(w.cfg.LuaDir, lua.LibraryFolder) + string(filepath.Separator)
	for _, l := range w.allLibraries() { // the modules' too
		libs := l.Sources()
		for _, file := range slices.Sorted(maps.Keys(libs)) {
			fmt.Fprintf(files, "lua %s\x00%d\x00", strings.TrimPrefix(file, libDir), len(libs[file]))
			files.Write(libs[file])
		}
	}
	vars := sha256.New()
	saltBytes, _ := hex.DecodeString(salt)
	vars.Write(saltBytes)
	names := make([]string, 0, len(in.Variables))
	for name := range in.Variables {
		names = append(names, name)
	}
	slices.Sort(names)
	sensitive := map[string]bool{}
	for _, v := range w.cfg.Variables {
		sensitive[v.Name] = v.Sensitive
	}
	for _, name := range names {
		fmt.Fprintf(vars, "%s\x00", name)
		if sensitive[name] || lang.IsSensitive(in.Variables[name]) {
			// No digest of a sensitive value, salted or not: the header
			// is readable by whoever reads the journal, and a digest of
			// a short value (a PIN) is reversed by trying them all. A
			// changed sensitive value is therefore not noticed by a
			// resumed run, as a rotated credential should not be.
			vars.Write([]byte("(sensitive)\x00"))
			continue
		}
		v, _ := in.Variables[name].UnmarkDeep()
		vars.Write(lang.DisplayJSON(v))
		vars.Write([]byte{0})
	}
	return state.Header{Workflow: path, Files: hex.EncodeToString(files.Sum(nil)),
		Vars: hex.EncodeToString(vars.Sum(nil)), Salt: salt, Shard: sh.String()}
}

// sourceFiles lists the workflow files that declare something, sorted:
// the files of -var-file values are covered by the variables' hash.
func (w *Workflow) sourceFiles() []string {
	seen := map[string]bool{}
	add := func(r hcl.Range) {
		if _, ok := w.cfg.Files()[r.Filename]; ok {
			seen[r.Filename] = true
		}
	}
	for _, n := range w.nodes {
		add(n.rng)
	}
	// Every file of every module: one may declare only variables whose
	// nodes are ranged at the caller's inputs.
	for cfg := range w.moduleLibs {
		for name := range cfg.Files() {
			seen[name] = true
		}
	}
	names := make([]string, 0, len(seen))
	for name := range seen {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// fingerprintChange says how a recorded run differs from this one, or ""
// when it does not.
func fingerprintChange(old, now state.Header) string {
	var why []string
	if old.Files != now.Files {
		why = append(why, "the workflow files changed")
	}
	if old.Vars != now.Vars {
		why = append(why, "the variables have other values")
	}
	if old.Shard != now.Shard {
		shard := func(s string) string {
			if s == "" {
				return "not sharded"
			}
			return "shard " + s
		}
		why = append(why, fmt.Sprintf("it was %s and this run is %s", shard(old.Shard), shard(now.Shard)))
	}
	return strings.Join(why, "; ")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func pluralize(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
