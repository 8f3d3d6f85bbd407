package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// Version is the journal format this package writes. Open refuses a file
// written in a newer format rather than misreading it.
const Version = 3 // 3: outputs records

// magicValue is the value of the "okru-run" key that opens a header line
// (see magic). Version 1 journals had no such key.
const magicValue = "journal"

// Kind says what a record records.
type Kind string

// The kinds of records. A call that changes something (a write) has a
// start record before its request is sent and a done or failed record
// after; a read has only its done record.
const (
	// KindStart: a write is about to be sent. Without a later done or
	// failed record its outcome is unknown.
	KindStart Kind = "start"
	// KindDone: a call succeeded; Result holds what it answered.
	KindDone Kind = "done"
	// KindFailed: a write was refused before it could take effect (the
	// server answered an error, or the request never left), so sending
	// it again is safe.
	KindFailed Kind = "failed"
	// KindEnd: the run finished with every call done.
	KindEnd Kind = "end"
	// KindOutputs: the outputs a run computed, when it ended (Result: an
	// object of {"value": ...} or {"sensitive": true} by name), for
	// okru-run output.
	KindOutputs Kind = "outputs"

	kindHeader Kind = "header"
)

// Header is the first line of a journal: which run it belongs to. The
// engine compares it with the run being resumed.
type Header struct {
	Version  int       `json:"version"`
	Workflow string    `json:"workflow"`        // the workflow path as given, for messages
	Files    string    `json:"files"`           // a hash of the workflow files
	Vars     string    `json:"vars"`            // a salted hash of the variables' values, never the values
	Salt     string    `json:"salt,omitempty"`  // hex, random per run: Vars is sha256(salt || values)
	Shard    string    `json:"shard,omitempty"` // "2/4" for a sharded run
	Created  time.Time `json:"created"`
}

// Record is one line of a journal after the header.
type Record struct {
	Kind   Kind
	ID     string // the call instance, such as call.post[3]
	Method string
	Write  bool   // the method is not known to be read-only
	Hash   string // identifies the call's parameters, to notice that they changed
	// Params shows the parameters of a write (start records), as JSON for
	// people checking a call whose outcome is unknown. Sensitive values are
	// already replaced: the journal never holds a secret.
	Params json.RawMessage
	// Result is what a done call answered, as JSON.
	Result json.RawMessage
	// Redacted says that Result held a secret, which was replaced, so it
	// is not the answer itself.
	Redacted bool
	Error    string    // failed: why, without secrets
	Time     time.Time // when the record was made; zero means now
}

// wireRecord is a line as it is read back.
type wireRecord struct {
	Kind     Kind            `json:"k"`
	ID       string          `json:"id"`
	Method   string          `json:"m"`
	Write    bool            `json:"w"`
	Hash     string          `json:"h"`
	Params   json.RawMessage `json:"p"`
	Result   json.RawMessage `json:"r"`
	Redacted bool            `json:"x"`
	Error    string          `json:"e"`
	Time     int64           `json:"t"` // Unix milliseconds
	Header   *Header         `json:"header"`
	Magic    string          `json:"okru-run"` // "journal" on the header line
}

func (w *wireRecord) record() Record {
	return Record{Kind: w.Kind, ID: w.ID, Method: w.Method, Write: w.Write, Hash: w.Hash, Params: w.Params,
		Result: w.Result, Redacted: w.Redacted, Error: w.Error, Time: time.UnixMilli(w.Time)}
}

// appendRecord encodes r as one line, by hand: this runs once per call,
// and encoding/json would re-validate and copy every result.
func appendRecord(b []byte, r *Record) ([]byte, error) {
	switch r.Kind {
	case KindStart, KindDone, KindFailed, KindEnd, KindOutputs:
	default:
		return b, fmt.Errorf("record kind %q is not one a journal holds", r.Kind)
	}
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	b = append(b, `{"k":"`...)
	b = append(b, r.Kind...)
	b = append(b, '"')
	if r.ID != "" {
		b = append(b, `,"id":`...)
		b = appendString(b, r.ID)
	}
	if r.Method != "" {
		b = append(b, `,"m":`...)
		b = appendString(b, r.Method)
	}
	if r.Write {
		b = append(b, `,"w":true`...)
	}
	if r.Hash != "" {
		b = append(b, `,"h":`...)
		b = appendString(b, r.Hash)
	}
	b = append(b, `,"t":`...)
	b = strconv.AppendInt(b, t.UnixMilli(), 10)
	var err error
	if len(r.Params) > 0 {
		b = append(b, `,"p":`...)
		if b, err = appendRaw(b, r.Params); err != nil {
			return b, fmt.Errorf("params of %s: %w", r.ID, err)
		}
	}
	if r.Result != nil {
		b = append(b, `,"r":`...)
		if b, err = appendRaw(b, r.Result); err != nil {
			return b, fmt.Errorf("result of %s: %w", r.ID, err)
		}
	}
	if r.Redacted {
		b = append(b, `,"x":true`...)
	}
	if r.Error != "" {
		b = append(b, `,"e":`...)
		b = appendString(b, r.Error)
	}
	return append(b, "}\n"...), nil
}

// appendRaw appends a JSON value, compacted when it spans lines: a line
// of the journal is one record.
func appendRaw(b []byte, raw json.RawMessage) ([]byte, error) {
	if !json.Valid(raw) {
		return b, errors.New("not valid JSON")
	}
	if bytes.IndexAny(raw, "\r\n") < 0 {
		return append(b, raw...), nil
	}
	var buf bytes.Buffer
	buf.Grow(len(raw))
	if err := json.Compact(&buf, raw); err != nil {
		return b, err
	}
	return append(b, buf.Bytes()...), nil
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// as encoding/json does.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, `\n`...)
			case '\r':
				b = append(b, `\r`...)
			case '\t':
				b = append(b, `\t`...)
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// headerLine encodes the first line of a journal.
func headerLine(h Header) ([]byte, error) {
	b, err := json.Marshal(struct {
		Magic  string  `json:"okru-run"` // first: the line starts with magic
		Kind   Kind    `json:"k"`
		Header *Header `json:"header"`
	}{magicValue, kindHeader, &h})
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
