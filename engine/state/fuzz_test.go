package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
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
			if e.Kind == KindDone && e.size > 0 {
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

// FuzzOpenPath puts what the fuzzer chooses at a state path (the file
// itself, a symbolic or hard link to it, a folder, nothing) with any
// content, mode and name, and opens it. Open may refuse, but then the
// file is as it was; it never follows a symbolic link; when it accepts,
// the file was a journal or empty or new, is a journal afterwards, and a
// second Open by any name of it meets the lock.
//
//	go test ./engine/state -run '^$' -fuzz FuzzOpenPath -fuzztime 60s
func FuzzOpenPath(f *testing.F) {
	header, _ := headerLine(Header{Version: Version, Files: "f", Vars: "v"})
	f.Add(uint8(0), uint16(0o600), []byte(nil), "s")
	f.Add(uint8(1), uint16(0o644), []byte("notes\n"), "alias")
	f.Add(uint8(2), uint16(0o600), header, "sub/alias")
	f.Add(uint8(0), uint16(0o644), header, "a/../b")
	f.Add(uint8(3), uint16(0o700), []byte(nil), ".okru-run/x.journal")
	f.Add(uint8(4), uint16(0o600), []byte("x"), "new.journal")
	f.Fuzz(func(t *testing.T, kind uint8, mode uint16, content []byte, name string) {
		if !filepath.IsLocal(name) || len(name) > 200 || strings.ContainsRune(name, 0) {
			return
		}
		dir := t.TempDir()
		target := filepath.Join(dir, "target")
		path := filepath.Join(dir, "p", name)
		if filepath.Dir(path) != filepath.Join(dir, "p") && !strings.HasPrefix(path, filepath.Join(dir, "p")+string(filepath.Separator)) {
			return
		}
		perm := os.FileMode(mode) & 0o777
		perm |= 0o600 // the test must read it back
		if err := os.WriteFile(target, content, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(target, perm); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return // a name whose folder is the target, say
		}
		kind %= 5
		var err error
		switch kind {
		case 0:
			err = os.Rename(target, path)
			target = path
		case 1:
			err = os.Symlink(target, path)
		case 2:
			err = os.Link(target, path)
		case 3:
			err = os.Mkdir(path, 0o700)
		}
		if err != nil {
			return
		}
		before := snap(t, target)
		j, err := Open(path)
		if err != nil {
			if _, locked := errors.AsType[*LockedError](err); locked {
				t.Fatalf("a lock error for a file nobody holds: %v", err)
			}
			if kind != 3 && kind != 4 {
				if after := snap(t, target); after.mode != before.mode || !bytes.Equal(after.data, before.data) {
					t.Fatalf("a refused Open changed the file: %v %q, was %v %q", after.mode, after.data, before.mode, before.data)
				}
			}
			return
		}
		defer j.Close()
		switch {
		case kind == 1 || kind == 3:
			t.Fatalf("Open accepted a %s", map[uint8]string{1: "symbolic link", 3: "folder"}[kind])
		case kind != 4 && len(content) > 0 && !bytes.HasPrefix(content, []byte(magic)):
			t.Fatalf("Open accepted a file that is not a journal: %q", content)
		case kind != 4 && len(content) == 0 && perm&0o077 != 0:
			t.Fatalf("Open accepted an empty file of mode %v", perm)
		}
		if _, ok := j.Header(); !ok {
			if err := j.Reset(Header{Files: "f"}); err != nil {
				t.Fatal(err)
			}
		}
		names := []string{path}
		if kind == 2 {
			names = append(names, target)
		}
		for _, n := range names {
			if _, err := Open(n); err == nil {
				t.Fatalf("a second Open of %s while it is open succeeded", n)
			} else if _, locked := errors.AsType[*LockedError](err); !locked {
				t.Fatalf("a second Open of %s: %v, want a LockedError", n, err)
			}
		}
		j.Close()
		if b, _ := os.ReadFile(path); !bytes.HasPrefix(b, []byte(magic)) {
			t.Fatalf("an accepted file is not a journal afterwards: %q", b)
		}
	})
}

// snapshot is what a file holds and its mode, to show that a refused Open
// changed nothing.
type snapshot struct {
	mode os.FileMode
	data []byte
}

func snap(t *testing.T, path string) snapshot {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	var data []byte
	if fi.Mode().IsRegular() {
		if data, err = os.ReadFile(path); err != nil {
			t.Fatal(err)
		}
	}
	return snapshot{fi.Mode(), data}
}
