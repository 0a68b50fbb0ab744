package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder: replaced by the login command's own implementation.
func newLoginCmd(e *cmdEnv) *cobra.Command {
	return &cobra.Command{Use: "login", Short: "(not built yet)", Hidden: true, RunE: func(*cobra.Command, []string) error { return errors.New("login: not built yet") }}
}
