package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder: replaced by the plan command's own implementation.
func newPlanCmd(e *cmdEnv) *cobra.Command {
	return &cobra.Command{Use: "plan", Short: "(not built yet)", Hidden: true, RunE: func(*cobra.Command, []string) error { return errors.New("plan: not built yet") }}
}
