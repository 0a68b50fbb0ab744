package cmdroot

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/termtext"
)

// New returns the root command use ("alilogin", "broker").
func New(ctx context.Context, use, short string, in io.Reader, out, errw io.Writer, usageCode int) *cobra.Command {
	root := &cobra.Command{
		Use:           use,
		Short:         short,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetContext(ctx)
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errw)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return With(usageCode, fmt.Errorf("%w\nrun '%s --help' for usage", err, c.CommandPath()))
	})
	return root
}

// PrintError writes a command's final error as "<name>: <message>" with
// the message cleaned (termtext.CleanLines): whatever an error quotes
// from a server and a lower layer did not clean, no escape sequence
// reaches the terminal.
func PrintError(w io.Writer, name string, err error) {
	fmt.Fprintf(w, "%s: %s\n", name, termtext.CleanLines(err.Error()))
}

// IsUsageError recognises cobra's own argument errors (an unknown command
// or flag, a wrong number of arguments), which carry no exit code: both
// tools end them with Usage.
func IsUsageError(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "invalid argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
