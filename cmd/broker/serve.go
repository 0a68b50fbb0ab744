package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder: replaced by the serve command's own implementation.
func newServeCmd(e *cmdEnv) *cobra.Command {
	return &cobra.Command{Use: "serve", Short: "(not built yet)", Hidden: true, RunE: func(*cobra.Command, []string) error { return errors.New("serve: not built yet") }}
}
