//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package state

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// lock is an exclusive OS file lock (flock) on the journal file itself,
// taken through the descriptor the journal is read and written with. A
// flock belongs to the file, not to the name it was opened by, so two
// names of one journal (a hard link, "dir/../dir/x", a bind mount) meet
// the same lock. The kernel releases it when the process dies, however
// it dies, so a crash never leaves a stale lock behind.
type lock struct{ f *os.File }

func acquire(f *os.File, path string) (*lock, error) {
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &LockedError{Path: path, PID: lockHolder(f)}
		}
		return nil, fmt.Errorf("lock the state %s: %w", path, err)
	}
	return &lock{f: f}, nil
}

// release unlocks; closing the file would too.
func (l *lock) release() { _ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN) }

// lockHolder finds the process that holds a flock on f in /proc/locks
// (Linux), for the message a second run prints; 0 when it cannot tell.
// Nothing is written for it: a pid file beside the journal would be one
// more file to plant a link at.
func lockHolder(f *os.File) int {
	fi, err := f.Stat()
	if err != nil {
		return 0
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0
	}
	locks, err := os.Open("/proc/locks")
	if err != nil {
		return 0
	}
	defer locks.Close()
	dev := uint64(st.Dev)
	major := (dev>>8)&0xfff | (dev>>32)&^uint64(0xfff)
	minor := dev&0xff | (dev>>12)&^uint64(0xff)
	want := fmt.Sprintf("%02x:%02x:%d", major, minor, uint64(st.Ino))
	sc := bufio.NewScanner(locks)
	for sc.Scan() {
		// "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"; a waiter's
		// line has "->" after the number.
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[1] != "FLOCK" || fields[5] != want {
			continue
		}
		if pid, err := strconv.Atoi(fields[4]); err == nil && pid > 0 {
			return pid
		}
	}
	return 0
}
