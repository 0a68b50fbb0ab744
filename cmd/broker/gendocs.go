//go:build gendocs

package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/buildinfo"
	"github.com/alisw/alilogin/internal/gendocs"
)

// A build with -tags gendocs (tools/release) has the hidden __gen-docs
// command that writes the packages' man pages and completions.
func init() {
	buildCommands = append(buildCommands, func(e *cmdEnv) *cobra.Command {
		return gendocs.NewCmd(func() *cobra.Command { return newRootCmd(context.Background(), e) },
			func() string { return "broker " + buildinfo.Read().Version })
	})
}
