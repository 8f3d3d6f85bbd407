package main

import (
	"os"
	"os/signal"
	"syscall"
)

// exitOnSecondSignal ends the process at once with exitInterrupted when a
// second SIGINT or SIGTERM comes. The first one only ends main's context,
// asking the command to wind down (run lets the calls in flight finish);
// a second one means the user will not wait. Nothing needs cleaning up: a
// run's state is consistent at every moment (an append-only journal whose
// torn last line is dropped when read).
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
	os.Exit(exitInterrupted)
}
