package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/termtext"
	"github.com/alisw/alilogin/internal/tokenhelper"
)

// helperScriptName is the script setup writes in alilogin's config
// directory for the vault CLI's token_helper setting.
const helperScriptName = "vault-token-helper"

// helperPaths are the helper script's path (helperScriptPath) and the
// vault CLI's config file that names it.
func helperPaths(e *cmdEnv) (script, vaultCfg string, err error) {
	if script, err = helperScriptPath(e); err != nil {
		return "", "", err
	}
	if vaultCfg, err = tokenhelper.ConfigPath(e.getenv); err != nil {
		return "", "", err
	}
	return script, vaultCfg, nil
}

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
	script, vaultCfg, err := helperPaths(e)
	if err != nil {
		return err
	}
	old, err := tokenhelper.CurrentHelper(vaultCfg)
	if err != nil {
		return err
	}
	home := e.getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	if err := tokenhelper.WriteScript(script, tokenhelper.Script(tokenhelper.Binaries(self, home))); err != nil {
		return err
	}
	// The setting it replaces, for --remove; kept when setup runs again
	// (token_helper is the script's then).
	if old != `"`+script+`"` {
		if err := keepPreviousHelper(e, old); err != nil {
			return err
		}
	}
	if err := tokenhelper.SetHelper(vaultCfg, script); err != nil {
		return err
	}
	if old != "" && old != `"`+script+`"` {
		fmt.Fprintf(e.Stderr, "Replaced token_helper = %s in %s (the vault CLI no longer runs that helper; alilogin setup --vault-token-helper --remove puts it back).\n", termtext.Clean(old), vaultCfg)
	}
	fmt.Fprintf(e.Stderr, "The vault CLI now asks alilogin for its token: token_helper = %q in %s.\n", script, vaultCfg)
	fmt.Fprintln(e.Stderr, "Plain vault commands use the profile's Vault token while VAULT_ADDR names its Vault and VAULT_TOKEN is not set; for another Vault the helper gives no token.")
	return nil
}

// keepPreviousHelper records the token_helper setup replaces (old, as
// written; "" for none) in the state directory, mode 0600.
func keepPreviousHelper(e *cmdEnv, old string) error {
	dir, err := session.StateDir(e.getenv)
	if err != nil {
		return err
	}
	return tokenhelper.KeepPrevious(dir, old)
}

// removeVaultHelper undoes setupVaultHelper: token_helper back to what
// it replaced (or removed), the other settings kept, the script removed.
// A token_helper that is not the script's (set by hand since) stays.
func removeVaultHelper(e *cmdEnv) error {
	script, vaultCfg, err := helperPaths(e)
	if err != nil {
		return err
	}
	dir, err := session.StateDir(e.getenv)
	if err != nil {
		return err
	}
	prev, err := tokenhelper.Previous(dir)
	if err != nil {
		return err
	}
	r, err := tokenhelper.RestoreHelper(vaultCfg, script, prev)
	if err != nil {
		return err
	}
	switch {
	case r.Ours && r.Restored != "":
		fmt.Fprintf(e.Stderr, "Restored token_helper = %s in %s.\n", termtext.Clean(r.Restored), vaultCfg)
	case r.Ours:
		fmt.Fprintf(e.Stderr, "Removed token_helper from %s: the vault CLI keeps its token in ~/.vault-token again.\n", vaultCfg)
	case r.Found != "":
		fmt.Fprintf(e.Stderr, "Left token_helper = %s in %s as it is: it is not alilogin's.\n", termtext.Clean(r.Found), vaultCfg)
	default:
		fmt.Fprintf(e.Stderr, "No token_helper in %s: nothing to restore.\n", vaultCfg)
	}
	if err := tokenhelper.RemoveScript(script); err != nil {
		return err
	}
	if r.Ours {
		tokenhelper.ForgetPrevious(dir)
	}
	tokenhelper.ClearRefusal(dir)
	fmt.Fprintf(e.Stderr, "Removed %s.\n", script)
	return nil
}
