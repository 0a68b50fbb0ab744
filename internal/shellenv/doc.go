// Package shellenv is the shell code alilogin prints.
//
// Write puts environment variables (the environment contract's Vars) as
// lines a shell evaluates (`eval "$(alilogin env)"`), quoted so that no
// value, however odd, can run code: POSIX sh (bash, zsh, dash), fish,
// PowerShell, and JSON for everything else.
//
// The hook (snippet.go) is the snippet `alilogin hook bash|zsh|fish`
// prints for a shell's rc file, and the state lines it applies when it
// refreshes. Before each prompt the snippet compares the time with the
// moment the tokens need renewing (kept in a shell variable) using shell
// builtins only: no process is started while that moment is far. When
// it has come, the snippet runs `alilogin hook SHELL --env`, which
// prints `alilogin env`'s lines and the next moment (HookState); a login
// that is needed (or another failure) is said in one line, once, and
// looked at again a minute later.
//
// It decides nothing about which variables: internal/envcontract does.
package shellenv
