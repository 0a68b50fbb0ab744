// Package exitcode carries a command's exit code with its error, from deep
// in a command up to main, which alone calls os.Exit, and holds the one
// table of codes that both tools use (codes.go).
//
// It is not where the codes are chosen for a failure: the commands in cmd/
// choose them; domain packages return sentinel or typed errors.
package exitcode
