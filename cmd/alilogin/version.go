package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/buildinfo"
)

func newVersionCmd(e *cmdEnv) *cobra.Command {
	return buildinfo.Command("alilogin", func() io.Writer { return e.Stdout })
}

// setVersionFlag gives the root command --version, printing the same
// line as `alilogin version`.
func setVersionFlag(root *cobra.Command) { buildinfo.SetVersionFlag(root, "alilogin") }
