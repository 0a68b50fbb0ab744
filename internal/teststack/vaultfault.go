package teststack

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"syscall"
)

// Faults of a Vault for the tests of the direct login (issue 24): a
// stopped Vault (SIGSTOP: it accepts connections and never answers, as a
// hung server does) and a sealed one.

// Stop stops Vault's process group with SIGSTOP; Continue resumes it.
func (v *Vault) Stop() error { return syscall.Kill(-v.p.cmd.Process.Pid, syscall.SIGSTOP) }

// Continue resumes a Vault that Stop stopped.
func (v *Vault) Continue() error { return syscall.Kill(-v.p.cmd.Process.Pid, syscall.SIGCONT) }

// Seal seals Vault (sys/seal with the root token).
func (v *Vault) Seal(ctx context.Context) error {
	if err := v.Client().Do(ctx, "PUT", "/v1/sys/seal", nil, nil); err != nil {
		return fmt.Errorf("could not seal Vault: %w", err)
	}
	return nil
}

var unsealKeyLine = regexp.MustCompile(`(?m)^Unseal Key: (\S+)$`)

// Unseal unseals Vault with the dev server's unseal key, which it
// printed at its start, and waits until it is active again.
func (v *Vault) Unseal(ctx context.Context) error {
	log, err := os.ReadFile(v.p.logPath)
	if err != nil {
		return err
	}
	m := unsealKeyLine.FindSubmatch(log)
	if m == nil {
		return fmt.Errorf("no unseal key in the log of %s", v.p.name)
	}
	if err := v.Client().Do(ctx, "PUT", "/v1/sys/unseal", map[string]string{"key": string(m[1])}, nil); err != nil {
		return fmt.Errorf("could not unseal Vault: %w", err)
	}
	return v.p.waitFor(ctx, "unsealed and active", func(ctx context.Context) error {
		var h struct{ Initialized, Sealed, Standby bool }
		if err := v.Client().Do(ctx, "GET", "/v1/sys/health", nil, &h); err != nil {
			return err
		}
		if h.Sealed || h.Standby {
			return fmt.Errorf("not active: %+v", h)
		}
		return nil
	})
}
