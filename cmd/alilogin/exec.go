package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder: replaced by the exec command's own implementation.
func newExecCmd(e *cmdEnv) *cobra.Command {
	return &cobra.Command{Use: "exec", Short: "(not built yet)", Hidden: true, RunE: func(*cobra.Command, []string) error { return errors.New("exec: not built yet") }}
}
