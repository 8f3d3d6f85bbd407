package engine

import (
	"bytes"
	"encoding/json"

	"github.com/okru-run/okru-run/engine/state"
	"github.com/okru-run/okru-run/lang"
)

// The outputs of a run, recorded at its end in the journal, so that
// okru-run output can print them later without running again. A sensitive
// output is recorded as {"sensitive": true}, without its value: the
// journal never holds a secret.

// RecordedOutput is one output read back from a journal.
type RecordedOutput struct {
	Name      string
	Value     json.RawMessage // nil when sensitive
	Sensitive bool
}

// recordOutputs appends the outputs record. A failure to record is
// reported as every journal failure is, when the journal is closed.
func (r *runner) recordOutputs(outs []OutputValue) {
	j := r.journal
	if j == nil {
		return
	}
	b := []byte{'{'}
	for i, o := range outs {
		if i > 0 {
			b = append(b, ',')
		}
		name, _ := json.Marshal(o.Name)
		b = append(append(b, name...), ':')
		if o.Sensitive || lang.IsSensitive(o.Value) {
			b = append(b, `{"sensitive":true}`...)
			continue
		}
		b = append(append(append(b, `{"value":`...), lang.DisplayJSON(o.Value)...), '}')
	}
	b = append(b, '}')
	j.record(&state.Record{Kind: state.KindOutputs, Result: j.redactJSON(b)}, true)
}

// ReadOutputs reads the outputs the last run recorded in the journal at
// path, in the order the workflow declares them; ok is false when the
// journal holds none (the run did not end, or was made by an okru-run
// that did not record outputs).
func ReadOutputs(path string) (outs []RecordedOutput, ok bool, err error) {
	raw, ok, err := state.ReadOutputs(path)
	if err != nil || !ok {
		return nil, false, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // {
		return nil, false, err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false, err
		}
		var v struct {
			Value     json.RawMessage `json:"value"`
			Sensitive bool            `json:"sensitive"`
		}
		if err := dec.Decode(&v); err != nil {
			return nil, false, err
		}
		outs = append(outs, RecordedOutput{Name: tok.(string), Value: v.Value, Sensitive: v.Sensitive})
	}
	return outs, true, nil
}
