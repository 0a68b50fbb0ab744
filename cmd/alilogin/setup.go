package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder: replaced by the setup command's own implementation.
func newSetupCmd(e *cmdEnv) *cobra.Command {
	return &cobra.Command{Use: "setup", Short: "(not built yet)", Hidden: true, RunE: func(*cobra.Command, []string) error { return errors.New("setup: not built yet") }}
}
