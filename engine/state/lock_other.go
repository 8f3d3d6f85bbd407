//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package state

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// lock is PATH.lock created exclusively, holding the holder's pid, on
// systems without flock. Unlike flock it is taken by name, so two names of
// one journal get two locks there, and it survives a crash: the message of
// a LockedError then names a pid that no longer runs, and the user removes
// the file. O_EXCL never follows a link planted at PATH.lock.
type lock struct{ name string }

func acquire(_ *os.File, path string) (*lock, error) {
	name := path + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		b, _ := os.ReadFile(name)
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return nil, &LockedError{Path: path, PID: pid}
	}
	if err != nil {
		return nil, fmt.Errorf("lock the state: %w", err)
	}
	_, _ = f.WriteString(strconv.Itoa(os.Getpid()) + "\n")
	f.Close()
	return &lock{name: name}, nil
}

func (l *lock) release() { _ = os.Remove(l.name) }
