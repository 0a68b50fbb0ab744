package buildinfo

import (
	"io"

	"github.com/spf13/cobra"
)

// Command is `NAME version`: the version line (Info.Line), or with --json
// one object (Info.Write), on stdout().
func Command(name string, stdout func() io.Writer) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, build date and Go version",
		Args:  cobra.NoArgs,
		RunE:  func(*cobra.Command, []string) error { return Read().Write(stdout(), name, asJSON) },
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON object: version, commit, date, go_version, platform")
	return c
}

// SetVersionFlag gives root --version, printing the same line as
// `NAME version`. The flag is declared here so that cobra adds no -v:
// alilogin's token, env and exec use -v for --verbose.
func SetVersionFlag(root *cobra.Command, name string) {
	root.Version = Read().Line(name)
	root.SetVersionTemplate("{{.Version}}\n")
	root.Flags().Bool("version", false, "print the version, commit, build date and Go version")
}
