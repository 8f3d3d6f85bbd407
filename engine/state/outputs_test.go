package state

import (
	"encoding/json"
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
