package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder: replaced by the status command's own implementation.
func newStatusCmd(e *cmdEnv) *cobra.Command {
	return &cobra.Command{Use: "status", Short: "(not built yet)", Hidden: true, RunE: func(*cobra.Command, []string) error { return errors.New("status: not built yet") }}
}
