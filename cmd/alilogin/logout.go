package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder: replaced by the logout command's own implementation.
func newLogoutCmd(e *cmdEnv) *cobra.Command {
	return &cobra.Command{Use: "logout", Short: "(not built yet)", Hidden: true, RunE: func(*cobra.Command, []string) error { return errors.New("logout: not built yet") }}
}
