package state

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpen feeds any bytes to the journal reader, as a crash, a full disk
// or a hand edit may leave them. Open must not panic; it either refuses
// the file with an error or reads it, and then a record appended after
// what it read is found by the next Open: whatever was torn is dropped,
// never glued to the new record.
//
//	go test ./engine/state -run '^$' -fuzz FuzzOpen -fuzztime 60s
func FuzzOpen(f *testing.F) {
	header, _ := headerLine(Header{Version: Version, Files: "f", Vars: "v"})
	done, _ := appendRecord(nil, &Record{Kind: KindDone, ID: "call.a[0]", Method: "users.getInfo", Hash: "h", Result: json.RawMessage(`{"uid":"1"}`)})
	start, _ := appendRecord(nil, &Record{Kind: KindStart, ID: "call.p", Method: "mediatopic.post", Write: true, Params: json.RawMessage(`{"x":"(sensitive)"}`)})
	for _, seed := range [][]byte{
		nil, header, append(append([]byte{}, header...), done...),
		append(append(append([]byte{}, header...), start...), done[:len(done)/2]...),
		append(append([]byte{}, header...), "\n\n{}\n"...),
		[]byte(`{"k":"done","id":"x"}` + "\n"), []byte("\x00\x00\x00"),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "fuzz.journal")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		j, err := Open(path)
		if err != nil {
			// A damaged line or a newer format is refused; nobody holds
			// the lock.
			if _, locked := errors.AsType[*LockedError](err); locked {
				t.Fatalf("a lock error for a file nobody holds: %v", err)
			}
			return
		}
		records := j.Records()
		if _, ok := j.Header(); !ok {
			if err := j.Reset(Header{Files: "f"}); err != nil {
				t.Fatal(err)
			}
			records = 0
		}
		j.Entries(func(id string, e Entry) {
			if e.Kind == KindDone {
				if _, err := j.Result(e); err != nil {
					t.Fatalf("%s: the result Open indexed cannot be read: %v", id, err)
				}
			}
		})
		if err := j.AppendDurable(&Record{Kind: KindDone, ID: "call.fuzz", Result: json.RawMessage(`1`)}); err != nil {
			t.Fatal(err)
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		j, err = Open(path)
		if err != nil {
			t.Fatalf("reopen after an append: %v", err)
		}
		defer j.Close()
		if e, ok := j.Lookup("call.fuzz"); !ok || e.Kind != KindDone || j.Records() != records+1 {
			t.Fatalf("the appended record was not read back whole (%d records, want %d)", j.Records(), records+1)
		}
	})
}
