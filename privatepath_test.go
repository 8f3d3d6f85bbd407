package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The credentials file of okru-run login follows the journal's rules: a
// link at its path, or a folder others can write, is refused and what
// was there is left alone; otherwise it is written 0600 in a 0700 folder.
func TestWriteCredentialsRefusesUnsafePaths(t *testing.T) {
	t.Parallel()
	creds := credentialsFile{Magic: credentialsMagic, AccessToken: "tok-secret-value", LoggedInAt: time.Unix(0, 0)}
	tests := []struct {
		name   string
		setup  func(t *testing.T, dir string) (path, victim string)
		reason string
	}{
		{"link to another file", func(t *testing.T, dir string) (string, string) {
			victim := filepath.Join(dir, "bashrc")
			if err := os.WriteFile(victim, []byte("keep\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, "credentials.json")
			if err := os.Symlink(victim, p); err != nil {
				t.Fatal(err)
			}
			return p, victim
		}, "is a symbolic link"},
		{"folder others can write", func(t *testing.T, dir string) (string, string) {
			folder := filepath.Join(dir, "okru-run")
			if err := os.Mkdir(folder, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(folder, 0o777); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(folder, "credentials.json")
			if err := os.WriteFile(p, []byte("old\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			return p, p
		}, "other users can write (mode 0777)"},
		{"a file of the user's", func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "credentials.json")
			if err := os.WriteFile(p, []byte("precious\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			return p, p
		}, "neither empty nor a credentials file okru-run login wrote"},
		{"a folder at the path", func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "credentials.json")
			if err := os.Mkdir(p, 0o700); err != nil {
				t.Fatal(err)
			}
			return p, p
		}, "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path, victim := tt.setup(t, t.TempDir())
			before, _ := os.Lstat(victim)
			data, _ := os.ReadFile(victim)
			err := writeCredentials(path, creds)
			if err == nil || !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("writeCredentials = %v, want a refusal saying %q", err, tt.reason)
			}
			after, _ := os.Lstat(victim)
			now, _ := os.ReadFile(victim)
			if after.Mode() != before.Mode() || !bytes.Equal(now, data) {
				t.Errorf("%s changed: %v %q, was %v %q", victim, after.Mode(), now, before.Mode(), data)
			}
			entries, _ := os.ReadDir(filepath.Dir(path))
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".credentials-") {
					t.Errorf("a temporary file was left: %s", e.Name())
				}
			}
		})
	}
	// The ordinary cases: over an empty file, then over credentials
	// written before (made readable to others since).
	path := filepath.Join(t.TempDir(), "new", "credentials.json")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeCredentials(path, creds); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeCredentials(path, creds); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v, %v; want %04o", p, fi.Mode(), err, want)
		}
	}
}
