package tokenhelper

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/alisw/alilogin/internal/atomicfile"
)

// PreviousFile is where setup keeps the token_helper setting it
// replaced (the HCL expression as written in the vault CLI's config
// file), for RestoreHelper; in alilogin's state directory, mode 0600.
const PreviousFile = "vault-token-helper.previous"

// KeepPrevious records in stateDir the token_helper setup replaces (old,
// as written; "" for none: the record is removed), mode 0600, atomically.
func KeepPrevious(stateDir, old string) error {
	p := filepath.Join(stateDir, PreviousFile)
	if old == "" {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("could not update %s: %w", p, err)
		}
		return nil
	}
	if err := atomicfile.Write(p, []byte(old+"\n")); err != nil {
		return fmt.Errorf("could not keep the token_helper it replaces: %w", err)
	}
	return nil
}

// Previous is the token_helper KeepPrevious recorded in stateDir, as
// RestoreHelper takes it ("" for none).
func Previous(stateDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(stateDir, PreviousFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("could not read the token_helper setup replaced: %w", err)
	}
	return string(b), nil
}

// ForgetPrevious removes what KeepPrevious recorded in stateDir.
func ForgetPrevious(stateDir string) { _ = os.Remove(filepath.Join(stateDir, PreviousFile)) }

// Restore is what RestoreHelper did.
type Restore struct {
	// Ours: token_helper was the script's path, and was changed.
	Ours bool
	// Found is the token_helper setting found (as written), "" for none.
	Found string
	// Restored is the setting put back, "" when the line was removed.
	Restored string
}

// RestoreHelper undoes SetHelper in the vault CLI's config file at path:
// when token_helper is script (quoted, as SetHelper writes it), it puts
// previous back (an HCL expression as CurrentHelper read it before
// setup), or removes the line when previous is ""; every other setting,
// comment and layout is kept, and the file is replaced atomically. Any
// other token_helper (one set by hand since) is left as it is.
func RestoreHelper(path, script, previous string) (Restore, error) {
	found, err := CurrentHelper(path)
	if err != nil {
		return Restore{}, err
	}
	r := Restore{Found: found}
	if found != `"`+script+`"` {
		return r, nil
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return r, fmt.Errorf("could not read the vault CLI's config file: %w", err)
	}
	// An edit of the text at the setting's place: comments and layout
	// stay as they are.
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return r, fmt.Errorf("could not read the vault CLI's config file %s: %w", path, diags)
	}
	a := f.Body.(*hclsyntax.Body).Attributes["token_helper"]
	if a == nil {
		return r, nil
	}
	var out []byte
	previous = strings.TrimSpace(previous)
	if previous == "" {
		start, end := a.SrcRange.Start.Byte, a.SrcRange.End.Byte
		start = bytes.LastIndexByte(src[:start], '\n') + 1
		if i := bytes.IndexByte(src[end:], '\n'); i >= 0 {
			end += i + 1
		} else {
			end = len(src)
		}
		out = append(append(out, src[:start]...), src[end:]...)
	} else {
		if _, d := hclsyntax.ParseExpression([]byte(previous), PreviousFile, hcl.InitialPos); d.HasErrors() || strings.Contains(previous, "\n") {
			return r, fmt.Errorf("could not restore token_helper = %s: not a one-line HCL expression", previous)
		}
		rg := a.Expr.Range()
		out = append(append(append(out, src[:rg.Start.Byte]...), previous...), src[rg.End.Byte:]...)
		r.Restored = previous
	}
	if err := atomicfile.Write(path, out); err != nil {
		return r, fmt.Errorf("could not write the vault CLI's config file: %w", err)
	}
	r.Ours = true
	return r, nil
}

// RemoveScript removes the helper script at path; a missing one is not
// an error.
func RemoveScript(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("could not remove the token helper script: %w", err)
	}
	return nil
}
