// Package shellhook holds the snippets `alilogin hook bash|zsh|fish`
// prints for a shell's rc file, and the state lines the snippet applies
// when it refreshes. Before each prompt the snippet compares the time
// with the moment the tokens need renewing (kept in a shell variable)
// using shell builtins only: no process is started while that moment is
// far. When it has come, the snippet runs `alilogin hook SHELL --env`,
// which prints `alilogin env`'s lines and the next moment; a login that
// is needed (or another failure) is said in one line, once, and looked at
// again a minute later.
package shellhook
