//go:build unix

package main

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// forwarded are the signals exec passes on to a COMMAND it runs as a
// child (--secret-file).
var forwarded = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}

// fromTerminal reports whether sig is one the terminal sends to its whole
// foreground process group (Ctrl-C, Ctrl-\) while alilogin, and so
// COMMAND, is that group: COMMAND has it already, and a second one would
// make many programs quit without cleaning up.
func fromTerminal(sig os.Signal) bool {
	if sig != os.Interrupt && sig != syscall.SIGQUIT {
		return false
	}
	fg, err := unix.IoctlGetInt(0, unix.TIOCGPGRP)
	return err == nil && fg == syscall.Getpgrp()
}
