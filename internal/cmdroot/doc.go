// Package cmdroot is what alilogin and broker share at their root: the
// start of the process (Start), the cobra root command (quiet: the caller
// prints an error once, with its own prefix, and maps it to an exit
// code; wired to the given context and streams; flag errors that carry
// the usage exit code and say where help is), the final error line, and
// the exit codes: the one table of codes that both tools use (codes.go)
// and their transport with the error, from deep in a command up to main,
// which alone calls os.Exit (exitcode.go).
//
// It is not where commands live: each tool's commands, flags and run
// functions are in its cmd/ package. Nor is it where the codes are chosen
// for a failure: the commands in cmd/ choose them; domain packages return
// sentinel or typed errors.
package cmdroot
