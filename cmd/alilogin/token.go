package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder: replaced by the token command's own implementation.
func newTokenCmd(e *cmdEnv) *cobra.Command {
	return &cobra.Command{Use: "token", Short: "(not built yet)", Hidden: true, RunE: func(*cobra.Command, []string) error { return errors.New("token: not built yet") }}
}
