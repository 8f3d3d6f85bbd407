package state

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestJournalOutputs records the outputs of two runs' ends and reads back
// the last, after the end record; a journal without one has none.
func TestJournalOutputs(t *testing.T) {
	t.Parallel()
	j, path := openNew(t)
	for _, r := range []Record{
		{Kind: KindDone, ID: "call.a", Result: json.RawMessage(`1`)},
		{Kind: KindOutputs, Result: json.RawMessage(`{"a":{"value":1}}`)},
		{Kind: KindOutputs, Result: json.RawMessage(`{"a":{"value":2},"s":{"sensitive":true}}`)},
		{Kind: KindEnd},
	} {
		if err := j.Append(&r); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	j = reopen(t, path)
	got, ok := j.Outputs()
	if !ok || string(got) != `{"a":{"value":2},"s":{"sensitive":true}}` {
		t.Errorf("outputs = %s, %v; want the last record's", got, ok)
	}
	if !j.Ended() {
		t.Error("the journal is not ended")
	}
	if _, ok := j.Lookup("call.a"); !ok {
		t.Error("the call record is lost")
	}
	fresh, _ := openNew(t)
	defer fresh.Close()
	if _, ok := fresh.Outputs(); ok {
		t.Error("a new journal has outputs")
	}
}

// TestReadOutputsWithoutLock reads the outputs of a journal another
// process (here: an open Journal) holds, many readers at once, and
// changes nothing: neither the holder's lock nor the file. A symbolic
// link and a file that is no journal are refused as Open refuses them.
func TestReadOutputsWithoutLock(t *testing.T) {
	t.Parallel()
	j, path := openNew(t)
	defer j.Close()
	if _, found, err := ReadOutputs(path); err != nil || found {
		t.Fatalf("before the outputs: found %v, %v", found, err)
	}
	if err := j.AppendDurable(&Record{Kind: KindOutputs, Result: json.RawMessage(`{"a":{"value":1}}`)}); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			got, found, err := ReadOutputs(path)
			if err != nil || !found || string(got) != `{"a":{"value":1}}` {
				t.Errorf("ReadOutputs = %s, %v, %v", got, found, err)
			}
		})
	}
	wg.Wait()
	if _, err := Open(path); !errors.As(err, new(*LockedError)) {
		t.Errorf("the holder lost its lock: Open = %v", err)
	}
	after, err := os.ReadFile(path)
	if err != nil || string(after) != string(before) {
		t.Errorf("the journal changed: %v", err)
	}

	dir := filepath.Dir(path)
	link := filepath.Join(dir, "link.journal")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(other, []byte("not a journal\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{link, other} {
		if _, _, err := ReadOutputs(p); !errors.As(err, new(*UnsafeError)) {
			t.Errorf("ReadOutputs(%s) = %v, want an UnsafeError", p, err)
		}
	}
}
