// Package nodump keeps a process that holds secrets out of reach of other
// processes of the same user. On Linux, Set clears the process's dumpable
// flag (prctl PR_SET_DUMPABLE 0): no core dump that would write tokens to
// disk, no ptrace attach, and /proc/<pid>/{environ,mem,maps,...} owned by
// root, unreadable to the user's other processes. A program that alilogin
// exec's gets the flag back: execve resets it for an ordinary binary, so
// the vault, nomad and consul CLIs behave as usual.
//
// It is not a sandbox: it hides nothing from root and does not stop the
// process itself from leaking what it holds.
package nodump
