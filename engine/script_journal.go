package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"

	"github.com/okru-run/okru-run/engine/state"
	"github.com/okru-run/okru-run/lang"
	"github.com/okru-run/okru-run/okru"
)

// This file journals the calls a script instance makes, one by one, so
// that a resumed run neither repeats a script's writes nor reports the
// whole script "outcome unknown" when the run died in the middle of it.
//
// Each call gets the record an HCL call would (a read: a done record,
// group-committed; a write: a durable start record before it is sent, and
// a done or failed one after), keyed by the instance and the call's
// sequence number within it: script.post["a"]#3. A paginated call is one
// number; its pages are #3/1, #3/2, ... and #3 itself says how many pages
// were read once the script is done with them (for a write method it is
// also the start record, before the first page).
//
// A resumed run runs an unfinished script again from the start. While its
// calls match the recorded ones (same number, method and parameters) they
// are answered from the journal without calling: a done call with its
// result, a write that has no end with an "outcome unknown" error the
// script can catch with okru.pcall (or it is sent again with
// -retry-unknown), a refused write by sending it again. The first call
// that differs ends the replay: that call and the rest are made. A write
// the recorded run made but the replay did not reach is never sent again
// by a later call with the same method and parameters: that call fails,
// as the script took another path and the engine cannot tell whether the
// write is still wanted. So scripts must be deterministic: given the same
// results, make the same calls in the same order.

// CodeOutcomeUnknown is the code of the error a script's call gets when
// the run it resumes sent that call, a write, and stopped before its
// answer was recorded. ok.ru has no such code: it is the engine's own.
const CodeOutcomeUnknown okru.Code = -1

// scriptJournal journals the calls of one script instance. A nil
// *scriptJournal (a run without state) records nothing.
type scriptJournal struct {
	j         *journal
	id        string // the instance, as InstanceName names it
	seq       int
	replaying bool
	recorded  []scriptWrite // the recorded run's writes of this instance
	used      map[int]bool  // sequence numbers answered from the journal
	carried   bool          // the unreplayed writes were recorded again (see carry)
}

// scriptWrite is a write the recorded run made, or started, in a script
// instance.
type scriptWrite struct {
	seq    int // 0 for a write carried over from an earlier divergence
	method string
	hash   string
	kind   state.Kind
}

// scriptCall is one call of a script being journaled.
type scriptCall struct {
	id     string
	seq    int
	method string
	write  bool
	hash   string
	params map[string]any
}

// carriedPrefix names the records that keep, under their own id, writes a
// diverging run would otherwise overwrite (see carry).
const carriedPrefix = "sent."

func (r *runner) newScriptJournal(inst *instance) *scriptJournal {
	j := r.journal
	if j == nil {
		return nil
	}
	s := &scriptJournal{j: j, id: InstanceName(inst.node.addr, inst.key)}
	if j.resumed {
		s.replaying = true
		s.recorded = j.scriptWrites[s.id]
		s.used = map[int]bool{}
	}
	return s
}

// indexScriptWrites gathers the writes every script instance made in the
// recorded run, once, when a run resumes.
func (j *journal) indexScriptWrites() {
	j.scriptWrites = map[string][]scriptWrite{}
	j.st.Entries(func(id string, e state.Entry) {
		if !e.Write || e.Kind == state.KindFailed {
			return
		}
		inst, seq, ok := splitScriptCallID(id)
		if !ok {
			return
		}
		j.scriptWrites[inst] = append(j.scriptWrites[inst], scriptWrite{seq: seq, method: e.Method, hash: e.Hash, kind: e.Kind})
	})
}

// splitScriptCallID splits "script.x[1]#3" into the instance and 3, and
// "script.x[1]#sent.HASH" into the instance and 0. Page records (#3/2) and
// the ids of call steps do not split.
func splitScriptCallID(id string) (string, int, bool) {
	i := strings.LastIndexByte(id, '#')
	if i < 0 {
		return "", 0, false
	}
	inst, tail := id[:i], id[i+1:]
	if strings.HasPrefix(tail, carriedPrefix) {
		return inst, 0, true
	}
	seq, err := strconv.Atoi(tail)
	if err != nil || seq < 1 {
		return "", 0, false
	}
	return inst, seq, true
}

// next numbers the script's next call.
func (s *scriptJournal) next(method string, params map[string]any) *scriptCall {
	if s == nil {
		return nil
	}
	s.seq++
	return &scriptCall{id: s.id + "#" + strconv.Itoa(s.seq), seq: s.seq, method: method,
		write: !okru.IsReadOnly(method), hash: s.j.paramsHash(params), params: params}
}

// paramsHash identifies a script call's parameters. They are hashed as
// JSON with the run's secrets replaced, as the journal must not hold even
// a hash of a secret; Lua values carry no sensitive mark to go by.
func (j *journal) paramsHash(params map[string]any) string {
	sum := sha256.Sum256([]byte(j.paramsText(params)))
	return hex.EncodeToString(sum[:16])
}

func (j *journal) paramsText(params map[string]any) string {
	b, err := json.Marshal(params) // map keys sorted: one text per value
	if err != nil {
		b = fmt.Appendf(nil, "%v", params)
	}
	return okru.Redact(string(b), j.secrets...)
}

// replayed is how a recorded call is answered again.
type replayed struct {
	raw json.RawMessage
	err error
}

// replay answers c from the journal when the recorded run made the same
// call at the same place. It reports false when c must be made: the
// journal has no record of it (a read lost in a crash, or one that
// failed), the write was refused before taking effect, its outcome is
// unknown and -retry-unknown asks to send it again, a read's result was
// stored without a secret it held, or the script took another path.
func (s *scriptJournal) replay(c *scriptCall) (replayed, bool) {
	if s == nil || !s.replaying {
		return replayed{}, false
	}
	e, found := s.j.st.Lookup(c.id)
	switch {
	case !found:
		return replayed{}, false
	case e.Method != c.method || e.Hash != c.hash:
		s.diverge()
		return replayed{}, false
	}
	s.used[c.seq] = true
	switch {
	case e.Kind == state.KindFailed:
		return replayed{}, false
	case e.Kind == state.KindStart && c.method == lang.UploadVideoMethod && !s.j.videoWhole(c.id, c.hash):
		// The recorded run had not sent the whole file, so not
		// video.update either: the upload goes on from what its upload
		// URL holds (see sendVideoFile).
		return replayed{}, false
	case e.Kind == state.KindStart && s.j.retryUnknown:
		return replayed{}, false
	case e.Kind == state.KindStart:
		return replayed{err: s.unknown(c.method, c.seq)}, true
	case e.Redacted && !e.Write:
		return replayed{}, false
	}
	raw, err := s.j.st.Result(e)
	if err != nil {
		return replayed{err: fmt.Errorf("call %s: call #%d of %s: %w; start over with -fresh", c.method, c.seq, s.id, err)}, true
	}
	return replayed{raw: raw}, true
}

// unknown is the error of a write sent by the recorded run whose answer
// was never recorded. It is an *okru.Error so that okru.pcall gives the
// script its code and name.
func (s *scriptJournal) unknown(method string, seq int) error {
	return &okru.Error{Method: method, Code: CodeOutcomeUnknown,
		Msg: fmt.Sprintf("outcome unknown: call #%d of %s was sent by the run being resumed, which stopped before its answer was recorded; it was not sent again (-retry-unknown sends it again)", seq, s.id)}
}

// diverge ends the replay. The writes the replay did not reach are
// recorded again under ids of their own, as the calls made from now on
// take their sequence numbers and would hide them from the next resume.
func (s *scriptJournal) diverge() {
	s.replaying = false
	if s.carried {
		return
	}
	s.carried = true
	for _, w := range s.recorded {
		if w.seq == 0 || s.used[w.seq] {
			continue
		}
		id := s.id + "#" + carriedPrefix + w.method + "." + w.hash
		s.j.record(&state.Record{Kind: w.kind, ID: id, Method: w.method, Write: true, Hash: w.hash}, false)
	}
}

// begin records that c is about to be made: a write's durable start
// record. A write the recorded run made that the replay did not reach is
// refused rather than sent a second time.
func (s *scriptJournal) begin(c *scriptCall) error {
	if s == nil || !c.write {
		return nil
	}
	for _, w := range s.recorded {
		if (w.seq == 0 || !s.used[w.seq]) && w.method == c.method && w.hash == c.hash {
			return &okru.Error{Method: c.method, Code: CodeOutcomeUnknown,
				Msg: fmt.Sprintf("outcome unknown: the run being resumed sent this call with these parameters (as call #%d of %s) and the script has taken another path since, so it was not sent again; make the script call the same methods in the same order given the same results, or start over with -fresh", max(w.seq, 1), s.id)}
		}
	}
	err := s.j.st.AppendDurable(&state.Record{Kind: state.KindStart, ID: c.id, Method: c.method, Write: true,
		Hash: c.hash, Params: s.j.redactJSON([]byte(s.j.paramsText(c.params)))})
	if err != nil {
		return fmt.Errorf("call %s was not sent: it could not be recorded in the state first: %w", c.method, err)
	}
	return nil
}

// end records how c ended: a done record with its answer, a failed one
// for a write refused before it took effect. Anything else leaves a
// write's start record alone: its outcome is unknown.
func (s *scriptJournal) end(c *scriptCall, raw json.RawMessage, err error) {
	if s == nil {
		return
	}
	switch {
	case err == nil:
		s.j.recordDone(c.id, c.method, c.write, c.hash, raw)
	case c.write && notApplied(err) && !errors.Is(err, CodeOutcomeUnknown):
		s.j.record(&state.Record{Kind: state.KindFailed, ID: c.id, Method: c.method, Write: true, Hash: c.hash,
			Error: okru.Redact(err.Error(), s.j.secrets...)}, true)
	}
}

// pageSummary is the result recorded for a paginated call: how many pages
// the script read, and whether they were all there were.
type pageSummary struct {
	Pages    int  `json:"pages"`
	Complete bool `json:"complete"`
}

// pages journals a paginated call: it yields the recorded pages of a
// replayed call, then follows live (whose first pages, reads, are
// fetched again and skipped) when the script wants more than were
// recorded. live makes the call; emit reports it.
func (s *scriptJournal) pages(c *scriptCall, live func() iter.Seq2[json.RawMessage, error]) iter.Seq2[json.RawMessage, error] {
	return func(yield func(json.RawMessage, error) bool) {
		recorded, complete, err := s.replayPages(c)
		if err != nil {
			yield(nil, err)
			return
		}
		n := 0
		for _, raw := range recorded {
			n++
			if !yield(raw, nil) {
				s.endPages(c, n, false)
				return
			}
		}
		if complete {
			s.endPages(c, n, true)
			return
		}
		if err := s.begin(c); err != nil {
			yield(nil, err)
			return
		}
		i := 0
		for raw, err := range live() {
			if err != nil {
				yield(nil, err)
				return // the summary stays unwritten: a resumed run follows again
			}
			i++
			if i <= n {
				continue // read by the recorded run, answered from the journal
			}
			n++
			if s != nil {
				s.j.recordDone(c.id+"/"+strconv.Itoa(n), c.method, false, c.hash, raw)
			}
			if !yield(raw, nil) {
				s.endPages(c, n, false)
				return
			}
		}
		s.endPages(c, n, true)
	}
}

// replayPages returns the pages of c the recorded run read, and whether
// they were all there were.
func (s *scriptJournal) replayPages(c *scriptCall) ([]json.RawMessage, bool, error) {
	if s == nil || !s.replaying {
		return nil, false, nil
	}
	var sum pageSummary
	e, found := s.j.st.Lookup(c.id)
	switch {
	case found && (e.Method != c.method || e.Hash != c.hash):
		s.diverge()
		return nil, false, nil
	case found && e.Kind == state.KindStart && !s.j.retryUnknown:
		s.used[c.seq] = true
		return nil, false, s.unknown(c.method, c.seq)
	case found && e.Kind == state.KindDone:
		s.used[c.seq] = true
		if raw, err := s.j.st.Result(e); err == nil {
			_ = json.Unmarshal(raw, &sum)
		}
	}
	var pages []json.RawMessage
	for k := 1; ; k++ {
		pe, ok := s.j.st.Lookup(c.id + "/" + strconv.Itoa(k))
		if !ok || pe.Kind != state.KindDone || pe.Method != c.method || pe.Hash != c.hash || pe.Redacted {
			break
		}
		raw, err := s.j.st.Result(pe)
		if err != nil {
			break
		}
		pages = append(pages, raw)
	}
	return pages, sum.Complete && len(pages) == sum.Pages, nil
}

// endPages records that the script is done with the pages of c.
func (s *scriptJournal) endPages(c *scriptCall, n int, complete bool) {
	if s == nil {
		return
	}
	raw, _ := json.Marshal(pageSummary{Pages: n, Complete: complete})
	s.j.recordDone(c.id, c.method, c.write, c.hash, raw)
}
