// Package cmdroot builds the cobra root command of alilogin and broker
// alike: quiet (the caller prints an error once, with its own prefix, and
// maps it to an exit code), wired to the given context and streams, and
// with flag errors that carry the usage exit code and say where help is.
//
// It is not where commands live: each tool's commands, flags and run
// functions are in its cmd/ package; this only builds the root they hang on
// and its final error line.
package cmdroot
