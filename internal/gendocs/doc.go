// Package gendocs writes what the release packages carry beside a binary:
// man pages made from its cobra commands (github.com/spf13/cobra/doc) and
// its bash, zsh and fish completion scripts.
//
// Only a build with the gendocs tag (tools/release builds one for the host)
// adds the hidden `__gen-docs` command that calls it, so the released
// binaries do not link the man-page renderer.
package gendocs
