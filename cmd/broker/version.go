package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/buildinfo"
)

// buildCommands are the hidden commands of a tagged build (gendocs.go).
var buildCommands []func(*cmdEnv) *cobra.Command

// addVersion adds `broker version`, the root's --version flag that
// prints the same line, and any hidden build commands.
func addVersion(root *cobra.Command, e *cmdEnv) {
	buildinfo.SetVersionFlag(root, "broker")
	root.AddCommand(buildinfo.Command("broker", func() io.Writer { return e.Stdout }))
	for _, c := range buildCommands {
		root.AddCommand(c(e))
	}
}
