//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package state

import (
	"os"
	"syscall"
)

// noFollow makes opening a name that is a symbolic link fail, so that a
// link planted between the check and the open is not followed either.
const noFollow = syscall.O_NOFOLLOW

// owner returns who owns a file and how many names it has.
func owner(fi os.FileInfo) (uid int, links uint64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), uint64(st.Nlink), true
}

func myUID() int { return os.Geteuid() }
