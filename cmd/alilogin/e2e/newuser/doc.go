// Package newuser walks a new engineer's path on `make demo`'s stack:
// a clean home, the stack's addresses in the environment (as `stack up`
// prints them, without its root tokens), and README.md's commands only.
//
// It is not a test of each command (cmd/alilogin/e2e is): only of the path
// the README promises a newcomer.
package newuser
