//go:build !unix

package main

import "os"

// forwarded are the signals exec passes on to a COMMAND it runs as a
// child (--secret-file).
var forwarded = []os.Signal{os.Interrupt}

// fromTerminal: Windows delivers Ctrl-C to every process of the console.
func fromTerminal(os.Signal) bool { return false }
