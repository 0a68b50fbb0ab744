package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder: replaced by the validate command's own implementation.
func newValidateCmd(e *cmdEnv) *cobra.Command {
	return &cobra.Command{Use: "validate", Short: "(not built yet)", Hidden: true, RunE: func(*cobra.Command, []string) error { return errors.New("validate: not built yet") }}
}
