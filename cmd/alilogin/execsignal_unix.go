//go:build unix

package main

import (
	"os"
	"syscall"
)

// forwarded are the signals exec passes on to a COMMAND it runs as a
// child (--secret-file).
var forwarded = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}
