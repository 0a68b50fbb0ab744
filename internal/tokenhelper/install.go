package tokenhelper

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"

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
// Before it runs the binary, it checks again what setup checked
// (binaryAt): the binary and its directory are the user's or root's and
// writable by neither group nor others; otherwise it refuses, saying
// why on stderr and nothing on stdout (the vault CLI would take stdout
// as the token).
func Script(alilogin string) []byte {
	return []byte("#!/bin/sh\n# Written by `alilogin setup --vault-token-helper`: the vault CLI's token helper.\n" +
		binaryCheck + "__alilogin_owned " + quoteSh(alilogin) + " && __alilogin_owned " + quoteSh(filepath.Dir(alilogin)) + " || exit 1\n" +
		"exec " + quoteSh(alilogin) + " vault-token-helper \"$@\"\n")
}

// binaryCheck is the script's check of a file: owned by the user or
// root (ls -n's third field), and neither group- nor other-writable (the
// 6th and 9th characters of its mode), in POSIX sh.
const binaryCheck = `# Whoever could have replaced the binary since setup would run their
# program with the user's Vault token at hand: refuse.
__alilogin_owned() {
  __alilogin_f=$1
  set -f
  set -- $(LC_ALL=C ls -ldn "$__alilogin_f" 2>/dev/null)
  set +f
  case ${1-} in
  '') echo "alilogin token helper: could not check $__alilogin_f; not running it" >&2; return 1 ;;
  ?????w*|????????w*) echo "alilogin token helper: $__alilogin_f is writable by group or others, who could have replaced alilogin; not running it (once you have checked it is still yours, run: chmod go-w $__alilogin_f)" >&2; return 1 ;;
  esac
  if [ "$3" != 0 ] && [ "$3" != "$(id -u)" ]; then
    echo "alilogin token helper: $__alilogin_f is owned by another user (uid $3), who could have replaced alilogin; not running it" >&2
    return 1
  fi
}
`

func quoteSh(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// ShellSafe reports whether path can be the vault CLI's token_helper:
// the CLI runs `$SHELL -c "<path> get"` with the path unquoted, so it
// must be an absolute path of letters, digits and / . _ + , : @ = -
// only (no space, quote, $, ~, glob or other character a shell reads).
func ShellSafe(path string) bool {
	if !filepath.IsAbs(path) || !strings.HasPrefix(path, "/") {
		return false
	}
	for _, r := range path {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("/._+,:@=-", r):
		default:
			return false
		}
	}
	return true
}

// WriteScript writes the script at path, mode 0700, atomically: a
// temporary file in the same directory, made executable, then renamed.
// The directory, and the file when it exists, must be the user's and
// not writable by group or others: whoever can replace the script runs
// code as the user and chooses the token the vault CLI sends. No
// directory above it (symbolic links resolved, up to /) may be writable
// by group or others unless it is sticky and owned by root or the user
// (as /tmp): whoever may rename an entry there swaps the whole subtree.
func WriteScript(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("could not create %s: %w", dir, err)
	}
	if err := private(dir, true); err != nil {
		return err
	}
	if err := aboveSafe(dir, mineOrRoot, "the token helper script"); err != nil { // binary.go
		return err
	}
	if err := private(path, false); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
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

// private checks that p (a directory when dir) is the user's and not
// writable by group or others; an absent p is fs.ErrNotExist.
func private(p string, dir bool) error {
	st, err := os.Lstat(p)
	if dir && err == nil && st.Mode()&fs.ModeSymlink != 0 {
		st, err = os.Stat(p)
	}
	if err != nil {
		return fmt.Errorf("could not check %s: %w", p, err)
	}
	switch {
	case dir && !st.IsDir():
		return fmt.Errorf("could not write the token helper script: %s is not a directory", p)
	case !ownedByMe(st):
		return fmt.Errorf("could not write the token helper script: %s is not owned by you; the vault CLI would run code whoever owns it puts there", p)
	case st.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("could not write the token helper script: %s (mode %v) is writable by group or others, who could replace the script the vault CLI runs; run: chmod go-w %s", p, st.Mode().Perm(), p)
	}
	return nil
}

// CurrentHelper is the token_helper setting of the vault CLI's config
// file at path as written there (an HCL expression, usually a quoted
// string); "" when the file or the setting is absent.
func CurrentHelper(path string) (string, error) {
	src, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("could not read the vault CLI's config file: %w", err)
	}
	f, diags := hclwrite.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return "", fmt.Errorf("could not read the vault CLI's config file %s: %w", path, diags)
	}
	a := f.Body().GetAttribute("token_helper")
	if a == nil {
		return "", nil
	}
	return strings.TrimSpace(string(a.Expr().BuildTokens(nil).Bytes())), nil
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
