package tokenhelper

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/alisw/alilogin/internal/atomicfile"
	"github.com/alisw/alilogin/internal/config"
)

// Verbs are the token helper protocol's verbs.
var Verbs = []string{"get", "store", "erase"}

// ConfigPath is the vault CLI's config file: VAULT_CONFIG_PATH, else
// ~/.vault.
func ConfigPath(getenv func(string) string) (string, error) {
	if p := getenv("VAULT_CONFIG_PATH"); p != "" {
		if !filepath.IsAbs(p) {
			return "", fmt.Errorf("VAULT_CONFIG_PATH %q is not an absolute path", p)
		}
		return p, nil
	}
	home := getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return "", fmt.Errorf("could not find the home directory: %w", err)
		}
	}
	return filepath.Join(home, ".vault"), nil
}

// Script is the helper script that runs alilogin (an absolute path).
func Script(alilogin string) []byte {
	return []byte("#!/bin/sh\n# Written by `alilogin setup --vault-token-helper`: the vault CLI's token helper.\nexec " +
		quoteSh(alilogin) + " vault-token-helper \"$@\"\n")
}

func quoteSh(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// WriteScript writes the script at path, mode 0700, atomically: a
// temporary file in the same directory, made executable, then renamed.
func WriteScript(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("could not create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("could not write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("could not write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o700); err != nil {
		return fmt.Errorf("could not write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("could not write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("could not write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("could not write %s: %w", path, err)
	}
	return nil
}

// SetHelper sets token_helper = helper in the vault CLI's config file at
// path (created 0600 if missing), keeping its other settings, comments
// and layout, atomically.
func SetHelper(path, helper string) error {
	src, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("could not read the vault CLI's config file: %w", err)
	}
	out, err := config.EditHCL(path, src, config.Setting{Name: "token_helper", Value: helper})
	if err != nil {
		return fmt.Errorf("could not update the vault CLI's config file %s: %w", path, err)
	}
	if err := atomicfile.Write(path, out); err != nil {
		return fmt.Errorf("could not write the vault CLI's config file: %w", err)
	}
	return nil
}
