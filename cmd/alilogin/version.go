package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/buildinfo"
)

// versionOptions are `alilogin version`'s flags.
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
	return buildinfo.Read().Write(w, "alilogin", o.JSON)
}

// setVersionFlag gives the root command --version, printing the same
// line as `alilogin version`.
func setVersionFlag(root *cobra.Command) {
	root.Version = buildinfo.Read().Line("alilogin")
	root.SetVersionTemplate("{{.Version}}\n")
	// Declared here so that cobra adds no -v: token, env and exec's -v is
	// --verbose.
	root.Flags().Bool("version", false, "print the version, commit, build date and Go version")
}
