package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder: replaced by the apply command's own implementation.
func newApplyCmd(e *cmdEnv) *cobra.Command {
	return &cobra.Command{Use: "apply", Short: "(not built yet)", Hidden: true, RunE: func(*cobra.Command, []string) error { return errors.New("apply: not built yet") }}
}
