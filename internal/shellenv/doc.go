// Package shellenv writes environment variables as lines a shell
// evaluates (`eval "$(alilogin env)"`), quoted so that no value, however
// odd, can run code: POSIX sh (bash, zsh, dash), fish, PowerShell, and
// JSON for everything else.
package shellenv
