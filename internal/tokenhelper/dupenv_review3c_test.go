//go:build linux

package tokenhelper

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/alisw/alilogin/internal/envcontract"
)

// TestReview3cChildGetenv is the child of TestReview3cDuplicateEnvFirstWins:
// it writes what a Go program (the vault CLI is one) reads as VAULT_ADDR.
func TestReview3cChildGetenv(t *testing.T) {
	out := os.Getenv("REVIEW3C_OUT")
	if out == "" {
		return
	}
	if err := os.WriteFile(out, []byte(os.Getenv("VAULT_ADDR")), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestReview3cDuplicateEnvFirstWins: a client started with VAULT_ADDR
// twice (execve with a hand-made envp) uses the FIRST one when it is a Go
// program (syscall.copyenv keeps the first mention), but Client.Getenv
// takes the last: the helper checks the login's Vault while the CLI
// sends the token to the other one. Same for VAULT_AGENT_ADDR=evil
// followed by VAULT_AGENT_ADDR= (the helper sees it unset).
func TestReview3cDuplicateEnvFirstWins(t *testing.T) {
	const own = "https://vault.example:8200"
	const evil = "https://evil.example:8200"
	env := []string{"VAULT_ADDR=" + evil, "VAULT_ADDR=" + own}

	// What a Go program really reads with that environment.
	out := filepath.Join(t.TempDir(), "out")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	pid, err := syscall.ForkExec(self, []string{self, "-test.run=^TestReview3cChildGetenv$"},
		&syscall.ProcAttr{Env: append(env, "REVIEW3C_OUT="+out), Files: []uintptr{0, 1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil || ws.ExitStatus() != 0 {
		t.Fatalf("child: %v %v", err, ws)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != evil {
		t.Fatalf("a Go program read VAULT_ADDR=%q, want the first entry %q", got, evil)
	}

	c := &Client{Env: env}
	if v := c.Getenv("VAULT_ADDR"); v != string(got) {
		t.Errorf("Client.Getenv(VAULT_ADDR) = %q, the Go client uses %q", v, got)
	}
	if why := Refusal(envcontract.VaultCLI, c.Env, nil, own); why == "" {
		t.Errorf("Refusal allows a client whose Go runtime sends the token to %s", evil)
	}
	c = &Client{Env: []string{"VAULT_ADDR=" + own, "VAULT_AGENT_ADDR=" + evil, "VAULT_AGENT_ADDR="}}
	if why := Refusal(envcontract.VaultCLI, c.Env, nil, own); !strings.Contains(why, "VAULT_AGENT_ADDR") {
		t.Errorf("Refusal = %q: VAULT_AGENT_ADDR=%s (first entry, what Go reads) not refused", why, evil)
	}
}
