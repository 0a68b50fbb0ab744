package tokenhelper

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

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

// Binaries are the alilogin binaries the helper script tries, in order:
// the one setup ran from (recorded, symbolic links resolved), then the
// places a package or an install by hand puts it (/usr/bin,
// /usr/local/bin, then the user's ~/.local/bin, ~/bin, ~/go/bin), so
// that moving from a downloaded binary to the package (or back) does
// not break every plain vault command. The one place that says where
// alilogin may be.
func Binaries(recorded, home string) []string {
	out := []string{recorded, "/usr/bin/alilogin", "/usr/local/bin/alilogin"}
	if filepath.IsAbs(home) {
		for _, d := range []string{".local/bin", "bin", "go/bin"} {
			out = append(out, filepath.Join(home, d, "alilogin"))
		}
	}
	var uniq []string
	for _, b := range out {
		if b != "" && !slices.Contains(uniq, b) {
			uniq = append(uniq, b)
		}
	}
	return uniq
}

// Script is the helper script: it runs the first of binaries
// (Binaries) that is a regular file (not a symbolic link), executable,
// and that only root or the user can replace: it and every directory
// above it owned by root or the user and not writable by group or
// others (a directory may be, when sticky, as /tmp). A binary that fails
// that is skipped, as a missing one; when none is left it says so on
// stderr and exits 1 (the vault CLI then shows that line). It reads
// owners and modes with `ls -ldn` (POSIX), not stat(1), whose flags
// differ between GNU and BSD.
func Script(binaries []string) []byte {
	var b strings.Builder
	b.WriteString(`#!/bin/sh
# Written by ` + "`alilogin setup --vault-token-helper`" + `: the vault CLI's token helper.
# Runs the first alilogin below that only root or you can replace (it and
# every directory above it owned by root or you, not writable by group or
# others unless a sticky directory); undo with:
#   alilogin setup --vault-token-helper --remove
me=$(id -u)
trusted() {
  [ -f "$1" ] && [ -x "$1" ] && [ ! -h "$1" ] || return 1
  d=$1
  set -- "$1"
  while d=${d%/*}; [ -n "$d" ]; do set -- "$@" "$d"; done
  set -- "$@" /
  ls -ldn -- "$@" 2>/dev/null | {
    n=0
    while read -r mode links uid rest; do
      n=$((n + 1))
      case $uid in 0|"$me") ;; *) exit 1 ;; esac
      case $mode in
        ?????w*|????????w*) case $mode in d????????[tT]*) ;; *) exit 1 ;; esac ;;
      esac
    done
    [ "$n" -eq "$#" ]
  }
}
for b in`)
	for _, p := range binaries {
		b.WriteString(" " + quoteSh(p))
	}
	b.WriteString("; do\n  if trusted \"$b\"; then exec \"$b\" vault-token-helper \"$@\"; fi\ndone\n")
	msg := "alilogin token helper: no alilogin binary that only root or you can replace (looked at " + strings.Join(binaries, ", ") + "); run: alilogin setup --vault-token-helper"
	b.WriteString("printf '%s\\n' " + quoteSh(msg) + " >&2\nexit 1\n")
	return []byte(b.String())
}

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
	case !mine(st):
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
	// hclsyntax, not hclwrite: hclwrite links go-cmp, whose package init
	// would run in every alilogin command, `token` included.
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return "", fmt.Errorf("could not read the vault CLI's config file %s: %w", path, diags)
	}
	a := f.Body.(*hclsyntax.Body).Attributes["token_helper"]
	if a == nil {
		return "", nil
	}
	r := a.Expr.Range()
	return strings.TrimSpace(string(r.SliceBytes(src))), nil
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
