package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/tokenhelper"
)

// helperScriptName is the script setup writes in alilogin's config
// directory for the vault CLI's token_helper setting.
const helperScriptName = "vault-token-helper"

// setupVaultHelper writes the helper script (0700, atomically) and points
// the vault CLI's config file at it, keeping its other settings.
func setupVaultHelper(e *cmdEnv) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("could not find the alilogin binary: %w", err)
	}
	if self, err = filepath.EvalSymlinks(self); err != nil {
		return fmt.Errorf("could not find the alilogin binary: %w", err)
	}
	dir, err := config.Dir(e.getenv)
	if err != nil {
		return err
	}
	script := filepath.Join(dir, helperScriptName)
	if err := tokenhelper.WriteScript(script, tokenhelper.Script(self)); err != nil {
		return err
	}
	vaultCfg, err := tokenhelper.ConfigPath(e.getenv)
	if err != nil {
		return err
	}
	if err := tokenhelper.SetHelper(vaultCfg, script); err != nil {
		return err
	}
	fmt.Fprintf(e.Stderr, "The vault CLI now asks alilogin for its token: token_helper = %q in %s.\n", script, vaultCfg)
	fmt.Fprintln(e.Stderr, "Plain vault commands use the profile's Vault token while VAULT_ADDR names its Vault and VAULT_TOKEN is not set.")
	return nil
}
