package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func openNew(t *testing.T) (*Journal, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), ".okru-run", "wf.hcl.journal")
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := j.Header(); ok {
		t.Fatal("a new journal has a header")
	}
	if err := j.Reset(Header{Workflow: "wf.hcl", Files: "f1", Vars: "v1", Shard: "1/2"}); err != nil {
		t.Fatal(err)
	}
	return j, path
}

func reopen(t *testing.T, path string) *Journal {
	t.Helper()
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func TestJournalRoundTrip(t *testing.T) {
	t.Parallel()
	j, path := openNew(t)
	records := []Record{
		{Kind: KindDone, ID: `call.me`, Method: "users.getCurrentUser", Hash: "h0", Result: json.RawMessage(`{"uid":"1"}`)},
		{Kind: KindStart, ID: `call.post[0]`, Method: "mediatopic.post", Write: true, Hash: "h1", Params: json.RawMessage(`{"type":"USER","token":"(sensitive)"}`)},
		{Kind: KindDone, ID: `call.post[0]`, Method: "mediatopic.post", Write: true, Hash: "h1", Result: json.RawMessage(`"700000000000001"`)},
		{Kind: KindStart, ID: `call.post[1]`, Method: "mediatopic.post", Write: true, Hash: "h2"},
		{Kind: KindStart, ID: `call.post[2]`, Method: "mediatopic.post", Write: true, Hash: "h3"},
		{Kind: KindFailed, ID: `call.post[2]`, Method: "mediatopic.post", Write: true, Hash: "h3", Error: "PARAM (100): bad \"text\"\n"},
		// A result that spans lines is stored on one; a key with quotes,
		// control characters and invalid UTF-8 survives.
		{Kind: KindDone, ID: "call.info[\"a\\\"b\x01\xff\"]", Method: "users.getInfo", Hash: "h4", Result: json.RawMessage("[\n  {\"x\": \"y\"}\n]"), Redacted: true},
		{Kind: KindDone, ID: `call.null`, Method: "users.getInfo", Hash: "h5", Result: json.RawMessage(`null`)},
	}
	for i := range records {
		var err error
		if records[i].Write {
			err = j.AppendDurable(&records[i])
		} else {
			err = j.Append(&records[i])
		}
		if err != nil {
			t.Fatalf("append %s: %v", records[i].ID, err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	j = reopen(t, path)
	h, ok := j.Header()
	if !ok || h.Files != "f1" || h.Vars != "v1" || h.Shard != "1/2" || h.Version != Version || h.Created.IsZero() {
		t.Fatalf("header = %+v, %v", h, ok)
	}
	if j.Ended() || j.Records() != len(records) || j.Writes() != 3 {
		t.Errorf("ended %v, records %d, writes %d; want false, %d, 3", j.Ended(), j.Records(), j.Writes(), len(records))
	}
	tests := []struct {
		id       string
		kind     Kind
		write    bool
		result   string
		redacted bool
	}{
		{"call.me", KindDone, false, `{"uid":"1"}`, false},
		{"call.post[0]", KindDone, true, `"700000000000001"`, false},
		{"call.post[1]", KindStart, true, "", false},
		{"call.post[2]", KindFailed, true, "", false},
		{"call.info[\"a\\\"b\x01\uFFFD\"]", KindDone, false, `[{"x":"y"}]`, true},
		{"call.null", KindDone, false, `null`, false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			e, ok := j.Lookup(tt.id)
			if !ok || e.Kind != tt.kind || e.Write != tt.write || e.Redacted != tt.redacted {
				t.Fatalf("entry = %+v, %v", e, ok)
			}
			if tt.result == "" {
				if _, err := j.Result(e); err == nil {
					t.Error("a result for a call that has none")
				}
				return
			}
			got, err := j.Result(e)
			if err != nil || string(got) != tt.result {
				t.Errorf("result = %s, %v; want %s", got, err, tt.result)
			}
		})
	}
	n := 0
	j.Entries(func(string, Entry) { n++ })
	if n != len(tests) {
		t.Errorf("Entries gave %d calls, want %d", n, len(tests))
	}
}

func TestJournalEndAndReset(t *testing.T) {
	t.Parallel()
	j, path := openNew(t)
	for _, r := range []Record{{Kind: KindDone, ID: "call.a", Result: json.RawMessage(`1`)}, {Kind: KindEnd}} {
		if err := j.Append(&r); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	j = reopen(t, path)
	if !j.Ended() {
		t.Fatal("a journal whose last record is end is not ended")
	}
	if err := j.Reset(Header{Files: "f2"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := j.Lookup("call.a"); ok || j.Ended() || j.Records() != 0 {
		t.Error("Reset kept what the journal held")
	}
	if err := j.Reset(Header{}); err != nil {
		t.Errorf("a second Reset before any append: %v", err)
	}
	if err := j.Append(&Record{Kind: KindDone, ID: "call.b", Result: json.RawMessage(`2`)}); err != nil {
		t.Fatal(err)
	}
	if err := j.Reset(Header{}); err == nil {
		t.Error("Reset after an append succeeded")
	}
}

// A crash can cut the last line anywhere; Open drops it and the next
// record starts on a line of its own.
func TestJournalTornLastLine(t *testing.T) {
	t.Parallel()
	j, path := openNew(t)
	if err := j.AppendDurable(&Record{Kind: KindDone, ID: "call.a", Result: json.RawMessage(`12345`)}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	whole, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	line, _ := appendRecord(nil, &Record{Kind: KindDone, ID: "call.b", Result: json.RawMessage(`12345`)})
	for cut := 1; cut < len(line); cut++ {
		t.Run(fmt.Sprintf("cut at %d", cut), func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), "torn.journal")
			if err := os.WriteFile(p, append(append([]byte(nil), whole...), line[:cut]...), 0o600); err != nil {
				t.Fatal(err)
			}
			j := reopen(t, p)
			if _, ok := j.Lookup("call.b"); ok {
				t.Fatalf("a torn record was read: %q", line[:cut])
			}
			if e, ok := j.Lookup("call.a"); !ok || e.Kind != KindDone {
				t.Fatal("the whole record before the torn one was lost")
			}
			if err := j.AppendDurable(&Record{Kind: KindDone, ID: "call.c", Result: json.RawMessage(`3`)}); err != nil {
				t.Fatal(err)
			}
			j.Close()
			j = reopen(t, p)
			if e, ok := j.Lookup("call.c"); !ok {
				t.Fatalf("a record appended after a torn line was lost: %+v", e)
			}
		})
	}
}

func TestJournalCorruptMiddle(t *testing.T) {
	t.Parallel()
	j, path := openNew(t)
	for _, id := range []string{"call.a", "call.b"} {
		if err := j.Append(&Record{Kind: KindDone, ID: id, Result: json.RawMessage(`1`)}); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	b, _ := os.ReadFile(path)
	bad := strings.Replace(string(b), `"id":"call.a"`, `"id":call.a"`, 1)
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path)
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Line != 2 || !strings.Contains(err.Error(), "-fresh") {
		t.Fatalf("Open = %v, want a CorruptError at line 2 that says what to do", err)
	}
	// The lock is released when Open fails.
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	reopen(t, path)
}

func TestJournalNewerFormatRefused(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "new.journal")
	if err := os.WriteFile(path, []byte(`{"okru-run":"journal","k":"header","header":{"version":99}}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "newer okru-run") {
		t.Fatalf("Open = %v, want a refusal naming the newer format", err)
	}
}

func TestJournalLock(t *testing.T) {
	t.Parallel()
	j, path := openNew(t)
	_, err := Open(path)
	var le *LockedError
	if !errors.As(err, &le) || le.PID != os.Getpid() || le.Path != path {
		t.Fatalf("second Open = %v, want a LockedError naming pid %d", err, os.Getpid())
	}
	for _, want := range []string{path, fmt.Sprintf("pid %d", os.Getpid()), "-state"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	reopen(t, path)
}

func TestJournalModes(t *testing.T) {
	t.Parallel()
	j, path := openNew(t)
	defer j.Close()
	for name, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700 | os.ModeDir} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode(), want)
		}
	}
	if _, err := os.Lstat(path + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a lock file beside the journal: %v", err)
	}
	// A journal copied in with looser read permissions is tightened once
	// it is proven a journal.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	loose := filepath.Join(t.TempDir(), "loose.journal")
	if err := os.WriteFile(loose, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(loose, 0o644); err != nil {
		t.Fatal(err)
	}
	reopen(t, loose)
	if fi, _ := os.Stat(loose); fi.Mode() != 0o600 {
		t.Errorf("loose journal: mode %v, want 0600", fi.Mode())
	}
}

// Many goroutines append at once, some durably: every record arrives
// whole, and durable appends return only once their record is synced.
func TestJournalConcurrentAppends(t *testing.T) {
	t.Parallel()
	j, path := openNew(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				r := &Record{Kind: KindDone, ID: fmt.Sprintf("call.c[%d]", g*1000+i), Result: json.RawMessage(`{"n":1}`)}
				var err error
				if i%10 == 0 {
					r.Write = true
					err = j.AppendDurable(r)
					if err == nil {
						j.mu.Lock()
						synced := j.synced
						j.mu.Unlock()
						if synced == 0 {
							t.Error("a durable append returned before any sync")
						}
					}
				} else {
					err = j.Append(r)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Append(&Record{Kind: KindEnd}); err == nil {
		t.Error("Append after Close succeeded")
	}
	j = reopen(t, path)
	if j.Records() != 1600 {
		t.Fatalf("records = %d, want 1600", j.Records())
	}
}

func TestAppendRejectsBadRecords(t *testing.T) {
	t.Parallel()
	j, _ := openNew(t)
	defer j.Close()
	for name, r := range map[string]Record{
		"kind":   {Kind: "header", ID: "call.a"},
		"result": {Kind: KindDone, ID: "call.a", Result: json.RawMessage(`{"a":`)},
		"params": {Kind: KindStart, ID: "call.a", Params: json.RawMessage(`nope`)},
	} {
		if err := j.Append(&r); err == nil {
			t.Errorf("%s: a bad record was accepted", name)
		}
	}
	if err := j.Append(&Record{Kind: KindDone, ID: "call.ok", Result: json.RawMessage(`1`)}); err != nil {
		t.Errorf("a bad record broke the journal: %v", err)
	}
}

// A last line that is whole, newline included, was not torn by a crash:
// if it cannot be read the state is damaged, and Open says so.
func TestJournalCorruptWholeLastLine(t *testing.T) {
	t.Parallel()
	j, path := openNew(t)
	if err := j.AppendDurable(&Record{Kind: KindDone, ID: "call.a", Result: json.RawMessage(`1`)}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"k":"done","id":call.b"}` + "\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = Open(path)
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Line != 3 {
		t.Fatalf("Open = %v, want a CorruptError at line 3", err)
	}
}

// A done record may hold no result (a write a diverging script carried
// over keeps none). One whose result was edited away is read as such: its
// result is refused as missing, never read from the wrong bytes.
func TestJournalDoneWithoutResult(t *testing.T) {
	t.Parallel()
	j, path := openNew(t)
	if err := j.AppendDurable(&Record{Kind: KindDone, ID: "call.a", Result: json.RawMessage(`{"uid":"1"}`)}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), `"r":`, `"r...":`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	j = reopen(t, path)
	e, ok := j.Lookup("call.a")
	if !ok || e.Kind != KindDone {
		t.Fatalf("Lookup = %+v, %v; want the done record", e, ok)
	}
	if _, err := j.Result(e); err == nil || !strings.Contains(err.Error(), "holds no result") {
		t.Fatalf("Result = %v, want an error saying the state holds no result", err)
	}
}
