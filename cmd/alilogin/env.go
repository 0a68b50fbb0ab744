package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder: replaced by the env command's own implementation.
func newEnvCmd(e *cmdEnv) *cobra.Command {
	return &cobra.Command{Use: "env", Short: "(not built yet)", Hidden: true, RunE: func(*cobra.Command, []string) error { return errors.New("env: not built yet") }}
}
