//go:build unix

package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func journalBytes(t *testing.T) []byte {
	t.Helper()
	j, path := openNew(t)
	if err := j.AppendDurable(&Record{Kind: KindDone, ID: "call.a", Result: json.RawMessage(`1`)}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// The attacks of issue 11 on -state: a link to a user's file, a file that
// is not a journal, a planted link in a folder others can write. Each is
// refused with an *UnsafeError that says what to do, and the file it
// names keeps its mode and content.
func TestJournalRefusesUnsafePaths(t *testing.T) {
	t.Parallel()
	journal := journalBytes(t)
	tests := []struct {
		name   string
		setup  func(t *testing.T, dir string) (path, victim string)
		reason string
	}{
		{"link to a 0644 file", func(t *testing.T, dir string) (string, string) {
			writeFile(t, filepath.Join(dir, "notes"), []byte("my notes\n"), 0o644)
			return link(t, "notes", filepath.Join(dir, "s")), filepath.Join(dir, "notes")
		}, "symbolic link"},
		{"link to an empty file", func(t *testing.T, dir string) (string, string) {
			writeFile(t, filepath.Join(dir, "empty"), nil, 0o600)
			return link(t, "empty", filepath.Join(dir, "s")), filepath.Join(dir, "empty")
		}, "symbolic link"},
		{"link to a journal", func(t *testing.T, dir string) (string, string) {
			writeFile(t, filepath.Join(dir, "j"), journal, 0o600)
			return link(t, "j", filepath.Join(dir, "alias")), filepath.Join(dir, "j")
		}, "symbolic link"},
		{"dangling link", func(t *testing.T, dir string) (string, string) {
			return link(t, filepath.Join(dir, "new"), filepath.Join(dir, "s")), filepath.Join(dir, "s")
		}, "symbolic link"},
		{"one-line file", func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "one")
			writeFile(t, p, []byte("keep me\n"), 0o600)
			return p, p
		}, "not an okru-run journal"},
		{"file without a newline", func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "one")
			writeFile(t, p, []byte(`{"okru-run":"jour`), 0o644)
			return p, p
		}, "not an okru-run journal"},
		{"journal of the old format", func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "old")
			writeFile(t, p, []byte(`{"k":"header","header":{"version":1}}`+"\n"), 0o644)
			return p, p
		}, "older okru-run"},
		{"empty file others can read", func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "empty")
			writeFile(t, p, nil, 0o644)
			return p, p
		}, "other users can read"},
		{"empty file with another name", func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "empty")
			writeFile(t, p, nil, 0o600)
			if err := os.Link(p, filepath.Join(dir, "other")); err != nil {
				t.Fatal(err)
			}
			return p, p
		}, "hard links"},
		{"journal others can write", func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "j")
			writeFile(t, p, journal, 0o666)
			return p, p
		}, "other users can write"},
		{"folder", func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "d")
			if err := os.Mkdir(p, 0o700); err != nil {
				t.Fatal(err)
			}
			return p, p
		}, "not a regular file"},
		{"fifo", func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "fifo")
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Skip(err)
			}
			return p, p
		}, "not a regular file"},
		{"planted link in a world-writable .okru-run", func(t *testing.T, dir string) (string, string) {
			folder := filepath.Join(dir, ".okru-run")
			if err := os.Mkdir(folder, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(folder, 0o777); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, "victim"), []byte("x\n"), 0o644)
			return link(t, filepath.Join(dir, "victim"), filepath.Join(folder, "wf.hcl.journal")), filepath.Join(dir, "victim")
		}, "other users can write (mode 0777)"},
		{"new journal in a group-writable folder", func(t *testing.T, dir string) (string, string) {
			folder := filepath.Join(dir, ".okru-run")
			if err := os.Mkdir(folder, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(folder, 0o1770); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(folder, "wf.hcl.journal"), folder
		}, "other users can write"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path, victim := tt.setup(t, dir)
			before := snap(t, victim)
			j, err := Open(path)
			if err == nil {
				j.Close()
				t.Fatalf("Open(%s) succeeded", path)
			}
			ue, ok := errors.AsType[*UnsafeError](err)
			if !ok || !strings.Contains(err.Error(), tt.reason) || ue.Hint == "" {
				t.Errorf("Open = %v, want an UnsafeError saying %q", err, tt.reason)
			}
			if after := snap(t, victim); after.mode != before.mode || !bytes.Equal(after.data, before.data) {
				t.Errorf("%s changed: %v %q, was %v %q", victim, after.mode, after.data, before.mode, before.data)
			}
			if _, err := os.Lstat(path + ".lock"); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a lock file was made: %v", err)
			}
		})
	}
}

func link(t *testing.T, target, name string) string {
	t.Helper()
	if err := os.Symlink(target, name); err != nil {
		t.Fatal(err)
	}
	return name
}

// What Open accepts: a new path, an empty file of the user's alone (as
// mktemp makes), a journal, in a folder of the user's or a sticky one of
// root's.
func TestJournalAcceptedPaths(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	writeFile(t, empty, nil, 0o600)
	for _, path := range []string{filepath.Join(dir, "new", "deeper", "x.journal"), empty} {
		j, err := Open(path)
		if err != nil {
			t.Fatalf("Open(%s): %v", path, err)
		}
		if err := j.Reset(Header{Files: "f"}); err != nil {
			t.Fatal(err)
		}
		j.Close()
		if b, _ := os.ReadFile(path); !bytes.HasPrefix(b, []byte(magic)) {
			t.Errorf("%s does not start with the magic: %q", path, b)
		}
		reopen(t, path)
	}
	if fi, err := os.Stat(filepath.Join(dir, "new")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("a new folder: %v, %v; want mode 0700", fi.Mode(), err)
	}
	if fi, err := os.Stat(os.TempDir()); err == nil && fi.Mode()&os.ModeSticky != 0 {
		f, err := os.CreateTemp("", "okru-run-state-*")
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		defer os.Remove(f.Name())
		j, err := Open(f.Name())
		if err != nil {
			t.Fatalf("a mktemp file in the sticky %s: %v", os.TempDir(), err)
		}
		j.Close()
	}
}

// One lock per journal, whatever name reaches it: the attack ran
// two runs at once on "j/s" and a second name of it. A symbolic link is
// refused (above); a hard link and a path with ".." meet the lock.
func TestJournalLockOnePerFile(t *testing.T) {
	t.Parallel()
	j, path := openNew(t)
	defer j.Close()
	dir := filepath.Dir(path)
	hard := filepath.Join(dir, "alias.journal")
	if err := os.Link(path, hard); err != nil {
		t.Fatal(err)
	}
	dotdot := filepath.Join(dir, "..", filepath.Base(dir), filepath.Base(path))
	for _, other := range []string{hard, dotdot, path} {
		_, err := Open(other)
		le, ok := errors.AsType[*LockedError](err)
		if !ok || le.Path != other {
			t.Fatalf("Open(%s) while %s is open = %v, want a LockedError", other, path, err)
		}
	}
	if err := j.AppendDurable(&Record{Kind: KindDone, ID: "call.a", Result: json.RawMessage(`1`)}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	k := reopen(t, hard)
	if e, ok := k.Lookup("call.a"); !ok || e.Kind != KindDone || k.Records() != 1 {
		t.Errorf("the journal through its second name: %+v, %v, %d records", e, ok, k.Records())
	}
}
