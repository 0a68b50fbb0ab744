package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder: replaced by the explain command's own implementation.
func newExplainCmd(e *cmdEnv) *cobra.Command {
	return &cobra.Command{Use: "explain", Short: "(not built yet)", Hidden: true, RunE: func(*cobra.Command, []string) error { return errors.New("explain: not built yet") }}
}
