package main

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// onHardExit holds the funcs exitOnSecondSignal calls before it ends the
// process, such as one giving the terminal its echo back.
var onHardExit struct {
	mu    sync.Mutex
	funcs map[int]func()
	next  int
}

// atHardExit registers f to run if a second signal ends the process, and
// returns a func that unregisters it.
func atHardExit(f func()) (unregister func()) {
	onHardExit.mu.Lock()
	defer onHardExit.mu.Unlock()
	if onHardExit.funcs == nil {
		onHardExit.funcs = make(map[int]func())
	}
	id := onHardExit.next
	onHardExit.next++
	onHardExit.funcs[id] = f
	return func() {
		onHardExit.mu.Lock()
		defer onHardExit.mu.Unlock()
		delete(onHardExit.funcs, id)
	}
}

// runHardExit calls the registered funcs.
func runHardExit() {
	onHardExit.mu.Lock()
	defer onHardExit.mu.Unlock()
	for _, f := range onHardExit.funcs {
		f()
	}
}

// exitOnSecondSignal ends the process at once with exitInterrupted when a
// second SIGINT or SIGTERM comes. The first one only ends main's context,
// asking the command to wind down (run lets the calls in flight finish);
// a second one means the user will not wait. Little needs cleaning up: a
// run's state is consistent at every moment (an append-only journal whose
// torn last line is dropped when read); what does (a terminal left without
// echo at a password prompt) registers with atHardExit.
//
// The process exits by itself rather than letting the signal's default
// action kill it, because a process started in the background by a
// non-interactive shell inherits SIGINT ignored, and would then never see
// the second one.
func exitOnSecondSignal() {
	c := make(chan os.Signal, 2)
	signal.Notify(c, os.Interrupt, syscall.SIGTERM)
	<-c
	<-c
	runHardExit()
	os.Exit(exitInterrupted)
}
