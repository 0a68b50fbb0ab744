//go:build linux

package tokenhelper

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/envcontract"
)

// TestReview3cShellNotInListHidesAddressFlag: the vault CLI runs the
// helper through $SHELL -c. With a login shell that is not in the shell
// list (tcsh/csh, common at CERN, busybox ash, yash, oksh, nushell...)
// the walk stops at that shell and takes it for the client: its command
// line is "-c <script> get", so the CLI's own -address=OTHER is never
// seen and the token is handed out for OTHER. Modelled here with dash
// copied under the name tcsh, between a "vault" process (this test
// binary, with -address=OTHER on its command line and VAULT_ADDR of the
// login's Vault) and the helper. Either no client should be found (fail
// closed) or the refusal must see the flag.
func TestReview3cShellNotInListHidesAddressFlag(t *testing.T) {
	const own = "https://vault.example:8200"
	const evil = "https://evil.example:8200"
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	switch os.Getenv("REVIEW3C_ROLE") {
	case "helper":
		c, err := FindClient()
		if err != nil {
			os.Stdout.WriteString("refused: " + err.Error())
		} else if why := Refusal(envcontract.VaultCLI, c.Env, c.Args, own); why != "" {
			os.Stdout.WriteString("refused: " + why)
		} else {
			os.Stdout.WriteString("TOKEN GIVEN to client " + c.Exe + " args " + strings.Join(c.Args, ","))
		}
		os.Exit(0)
	case "vault":
		sh := os.Getenv("REVIEW3C_SHELL")
		cmd := exec.Command(sh, "-c", exe+" -test.run=^TestReview3cShellNotInListHidesAddressFlag$; true")
		cmd.Env = append(os.Environ(), "REVIEW3C_ROLE=helper")
		cmd.Stdout = os.Stdout
		_ = cmd.Run()
		os.Exit(0)
	}
	dash, err := exec.LookPath("dash")
	if err != nil {
		t.Fatal(err)
	}
	tcsh := filepath.Join(t.TempDir(), "tcsh")
	src, err := os.Open(dash)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(tcsh, os.O_CREATE|os.O_WRONLY, 0o700)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	dst.Close()
	cmd := exec.Command(exe, "-test.run=^TestReview3cShellNotInListHidesAddressFlag$", "--", "read", "-address="+evil, "secret/x")
	cmd.Env = append(os.Environ(), "REVIEW3C_ROLE=vault", "REVIEW3C_SHELL="+tcsh, "VAULT_ADDR="+own,
		"VAULT_AGENT_ADDR=", "VAULT_PROXY_ADDR=", "VAULT_HTTP_PROXY=", "VAULT_SRV_LOOKUP=")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("could not run the vault role: %v", err)
	}
	if !strings.HasPrefix(string(out), "refused: ") {
		t.Errorf("vault read -address=%s with SHELL=tcsh: %s", evil, out)
	}
}
