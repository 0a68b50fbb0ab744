package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/termtext"
	"github.com/alisw/alilogin/internal/tokenhelper"
)

// helperScriptName is the script setup writes in alilogin's config
// directory for the vault CLI's token_helper setting.
const helperScriptName = "vault-token-helper"

// helperScriptPath is where the script goes: the vault CLI runs
// `$SHELL -c "<token_helper> get"` with the path unquoted, so the first
// of alilogin's config directory, ~/.local/bin and ~/.alilogin whose
// path is made of shell-safe characters only (macOS's config directory,
// ~/Library/Application Support, has a space). None: an error, and no
// setting that a shell would read as more than a path.
func helperScriptPath(e *cmdEnv) (string, error) {
	var tried []string
	if dir, err := config.Dir(e.getenv); err == nil {
		tried = append(tried, filepath.Join(dir, helperScriptName))
	}
	home := e.getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	if filepath.IsAbs(home) {
		tried = append(tried, filepath.Join(home, ".local", "bin", "alilogin-"+helperScriptName), filepath.Join(home, ".alilogin", helperScriptName))
	}
	for _, p := range tried {
		if tokenhelper.ShellSafe(p) {
			return p, nil
		}
	}
	if len(tried) == 0 {
		return "", errors.New("could not find a place for the token helper script: no config or home directory")
	}
	return "", fmt.Errorf("could not find a place for the token helper script: the vault CLI runs it through a shell, unquoted, and none of %s is made of letters, digits and / . _ + , : @ = - only",
		termtext.Clean(strings.Join(tried, ", ")))
}

// setupVaultHelper writes the helper script (0700, atomically) and points
// the vault CLI's config file at it, keeping its other settings; it says
// which token_helper it replaces. It writes nothing when others could
// replace the script or the alilogin binary it runs.
func setupVaultHelper(e *cmdEnv) error {
	self, err := tokenhelper.Binary() // the binary the script runs, checked as the script's place is
	if err != nil {
		return err
	}
	script, err := helperScriptPath(e)
	if err != nil {
		return err
	}
	vaultCfg, err := tokenhelper.ConfigPath(e.getenv)
	if err != nil {
		return err
	}
	old, err := tokenhelper.CurrentHelper(vaultCfg)
	if err != nil {
		return err
	}
	if err := tokenhelper.WriteScript(script, tokenhelper.Script(self)); err != nil {
		return err
	}
	if err := tokenhelper.SetHelper(vaultCfg, script); err != nil {
		return err
	}
	if old != "" && old != `"`+script+`"` {
		fmt.Fprintf(e.Stderr, "Replaced token_helper = %s in %s (the vault CLI no longer runs that helper; put it back by hand to undo).\n", termtext.Clean(old), vaultCfg)
	}
	fmt.Fprintf(e.Stderr, "The vault CLI now asks alilogin for its token: token_helper = %q in %s.\n", script, vaultCfg)
	fmt.Fprintln(e.Stderr, "Plain vault commands use the profile's Vault token while VAULT_ADDR names its Vault and VAULT_TOKEN is not set; for another Vault the helper gives no token.")
	return nil
}
