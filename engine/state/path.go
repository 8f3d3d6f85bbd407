package state

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// This file decides whether a path may hold a journal, before anything in
// it is changed. A state path is often given on a command line and sits
// in a folder others may reach, so Open uses a file only when it is
//
//   - a regular file, reached without a symbolic link at the last step
//     (-state link.journal is refused, not followed to what it names);
//   - in a folder no other user can write (or a sticky one of root's, as
//     /tmp), so that nobody can swap the file between two runs;
//   - owned by this user and not writable by others, so that nobody
//     planted or edited its records;
//   - a journal already (its first line starts with magic) or empty; a
//     new file is created exclusively. Any other file is refused, and
//     neither its mode nor its content is touched.

// magic starts the first line of every journal: what proves that a file
// is one, before Open changes its mode or content. The line stays JSON.
const magic = `{"okru-run":"journal",`

// UnsafeError is returned by Open for a path it will not use as a
// journal. Nothing at the path was changed.
type UnsafeError struct {
	Path   string
	Reason string // "is a symbolic link", ...
	Hint   string // what to do
}

func (e *UnsafeError) Error() string {
	return fmt.Sprintf("state %s %s; it was left as it is: %s", e.Path, e.Reason, e.Hint)
}

const hintOtherPath = "give -state the path of an okru-run journal, or of a file that does not exist yet"

// checkFolder refuses to keep a journal in a folder that is not private
// (see CheckPrivateFolder).
func checkFolder(path, dir string) error {
	err := CheckPrivateFolder(dir)
	if fe, ok := errors.AsType[*FolderError](err); ok {
		return &UnsafeError{Path: path, Reason: "is in " + fe.reason(), Hint: fe.Hint}
	}
	return err
}

// FolderError says why a folder is not fit for private files.
type FolderError struct {
	Dir    string
	Reason string // "which other users can write (mode 0777)"
	Hint   string
}

func (e *FolderError) reason() string { return fmt.Sprintf("the folder %s, %s", e.Dir, e.Reason) }

func (e *FolderError) Error() string { return e.reason() + ": " + e.Hint }

// CheckPrivateFolder returns a *FolderError when dir is not a folder that
// only this user (and root) can change: one another user owns, or one
// other users can write, unless it is a sticky folder of root's (as
// /tmp), where they cannot remove or rename this user's files. There,
// anyone could swap a file between two uses of it. The credentials file
// of okru-run login is held to the same rule.
func CheckPrivateFolder(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("look at the folder %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return &FolderError{Dir: dir, Reason: "which is not a folder", Hint: "give a path in a folder"}
	}
	uid, _, ok := owner(fi)
	if !ok {
		return nil
	}
	if uid != myUID() && uid != 0 {
		return &FolderError{Dir: dir, Reason: fmt.Sprintf("which belongs to another user (uid %d)", uid), Hint: "use a folder of your own"}
	}
	if fi.Mode().Perm()&0o022 != 0 && (fi.Mode()&fs.ModeSticky == 0 || uid != 0) {
		return &FolderError{Dir: dir, Reason: fmt.Sprintf("which other users can write (mode %04o)", fi.Mode().Perm()),
			Hint: fmt.Sprintf("make it yours alone (chmod go-w %s), or use another folder", dir)}
	}
	return nil
}

// CheckPrivateFile returns an error when path is there but is not a
// regular file of this user's: a symbolic link (which a write would
// replace or follow), a folder, a device, another user's file.
func CheckPrivateFile(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := checkKind(path, fi); err != nil {
		ue := err.(*UnsafeError)
		return fmt.Errorf("%s %s", path, ue.Reason)
	}
	if uid, _, ok := owner(fi); ok && uid != myUID() {
		return fmt.Errorf("%s belongs to another user (uid %d)", path, uid)
	}
	return nil
}

// openFile opens path for reading and writing without following a
// symbolic link, creating it (mode 0600) when nothing is there. created
// reports that it was created.
func openFile(path string) (f *os.File, created bool, err error) {
	before, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|noFollow, 0o600)
		if err != nil {
			return nil, false, fmt.Errorf("create the state: %w", err)
		}
		return f, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("open the state: %w", err)
	}
	if err := checkKind(path, before); err != nil {
		return nil, false, err
	}
	f, err = os.OpenFile(path, os.O_RDWR|noFollow, 0)
	if err != nil {
		return nil, false, fmt.Errorf("open the state: %w", err)
	}
	if err := sameFile(path, f, before); err != nil {
		f.Close()
		return nil, false, err
	}
	return f, false, nil
}

func checkKind(path string, fi os.FileInfo) error {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return &UnsafeError{Path: path, Reason: "is a symbolic link", Hint: "give -state the journal file itself, not a link to it"}
	case !fi.Mode().IsRegular():
		return &UnsafeError{Path: path, Reason: "is not a regular file", Hint: hintOtherPath}
	}
	return nil
}

// sameFile checks that the open f is the file path named when it was
// looked at (fi): nothing swapped it in between.
func sameFile(path string, f *os.File, fi os.FileInfo) error {
	now, err := f.Stat()
	if err != nil {
		return fmt.Errorf("open the state: %w", err)
	}
	if !os.SameFile(fi, now) || !now.Mode().IsRegular() {
		return &UnsafeError{Path: path, Reason: "was replaced while it was being opened", Hint: "make sure no other program writes there, and run again"}
	}
	return nil
}

// prove checks that an existing file is one this package may use: a
// journal of this user's, or an empty file of this user's that only this
// user can read. It changes nothing; loose reports a journal whose mode
// is to be tightened to 0600 (results may be private) once it was read
// without error.
func prove(path string, f *os.File) (loose bool, err error) {
	fi, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("open the state: %w", err)
	}
	uid, links, known := owner(fi)
	if known && uid != myUID() {
		return false, &UnsafeError{Path: path, Reason: fmt.Sprintf("belongs to another user (uid %d)", uid), Hint: hintOtherPath}
	}
	perm := fi.Mode().Perm()
	if fi.Size() == 0 {
		switch {
		case known && links != 1:
			return false, &UnsafeError{Path: path, Reason: "is an empty file with other names (hard links)", Hint: hintOtherPath}
		case perm&0o077 != 0:
			return false, &UnsafeError{Path: path, Reason: fmt.Sprintf("is an empty file that other users can read or write (mode %04o)", perm),
				Hint: fmt.Sprintf("chmod 600 %s if it is meant for the state, or %s", path, hintOtherPath)}
		}
		return false, nil
	}
	head := make([]byte, len(magic))
	n, err := f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("open the state: %w", err)
	}
	if !bytes.Equal(head[:n], []byte(magic)) {
		return false, &UnsafeError{Path: path, Reason: "is not an okru-run journal (or one written by an older okru-run)",
			Hint: "move it away or remove it if it is an old state, or " + hintOtherPath}
	}
	if perm&0o022 != 0 {
		return false, &UnsafeError{Path: path, Reason: fmt.Sprintf("is a journal that other users can write (mode %04o), so its records cannot be trusted", perm),
			Hint: "start over with a new state: remove it, or " + hintOtherPath}
	}
	return perm != 0o600, nil
}

// stillThere checks, once the journal is locked, that path still names
// the locked file: a rename in between would have this run lock one file
// and another run the file now at path.
func stillThere(path string, f *os.File) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return &UnsafeError{Path: path, Reason: "was moved while it was being opened", Hint: "make sure no other program writes there, and run again"}
	}
	if err := checkKind(path, fi); err != nil {
		return err
	}
	return sameFile(path, f, fi)
}

// folderOf is the folder a state path is in.
func folderOf(path string) string { return filepath.Dir(path) }
