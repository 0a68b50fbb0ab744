package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/buildinfo"
)

// versionOptions are `broker version`'s flags.
type versionOptions struct {
	JSON bool
}

func newVersionCmd(e *cmdEnv) *cobra.Command {
	var o versionOptions
	c := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, build date and Go version",
		Args:  cobra.NoArgs,
		RunE:  func(*cobra.Command, []string) error { return runVersion(e.Stdout, o) },
	}
	c.Flags().BoolVar(&o.JSON, "json", false, "print one JSON object: version, commit, date, go_version, platform")
	return c
}

func runVersion(w io.Writer, o versionOptions) error {
	return buildinfo.Read().Write(w, "broker", o.JSON)
}

// buildCommands are the hidden commands of a tagged build (gendocs.go).
var buildCommands []func(*cmdEnv) *cobra.Command

// addVersion adds `broker version`, the root's --version flag that
// prints the same line, and any hidden build commands.
func addVersion(root *cobra.Command, e *cmdEnv) {
	root.Version = buildinfo.Read().Line("broker")
	root.SetVersionTemplate("{{.Version}}\n")
	// Declared here so that cobra adds no -v (as in alilogin, where -v is
	// --verbose).
	root.Flags().Bool("version", false, "print the version, commit, build date and Go version")
	root.AddCommand(newVersionCmd(e))
	for _, c := range buildCommands {
		root.AddCommand(c(e))
	}
}
