package e2e

// End-to-end tests of the environment contract (internal/envcontract)
// at each of its entry points, exec, env, the shell hook and the vault
// token helper, with the real vault and consul CLIs: variables that
// would send a token elsewhere are gone from the child or the shell, or
// refused by the helper; the proxy variables stay.

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/teststack"
)

// rerouted is a user of a fresh profile whose environment holds what a
// careless or hostile setup (a .envrc, a CI job's variables) leaves:
// every way to send the Vault token to rec instead of the Vault, a token
// file for the consul CLI, the proxies (rec too), GODEBUG's HTTP/2 frame
// log. The stack's binaries and alilogin are on its PATH. Its login has
// all three tokens.
func rerouted(t *testing.T, ctx context.Context, roles string) (*user, *hostile.Server, map[string]string) {
	t.Helper()
	u, _ := kvUser(t, ctx, roles)
	u.ok(t, "env", "--for", "vault,nomad,consul")
	rec := otherVault(t)
	otherToken := filepath.Join(u.home, "other-consul-token")
	if err := os.WriteFile(otherToken, []byte("00000000-0000-0000-0000-000000000000"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := map[string]string{
		"VAULT_AGENT_ADDR": rec.URL, "VAULT_PROXY_ADDR": rec.URL, "VAULT_HTTP_PROXY": rec.URL, "VAULT_SRV_LOOKUP": "true",
		"VAULT_SKIP_VERIFY": "true", "BAO_ADDR": rec.URL, "BAO_TOKEN": "", "BAO_AGENT_ADDR": rec.URL,
		"CONSUL_HTTP_TOKEN_FILE": otherToken, "CONSUL_GRPC_ADDR": rec.URL, "CONSUL_HTTP_SSL_VERIFY": "false", "NOMAD_SKIP_VERIFY": "true",
		"SSL_CERT_FILE": filepath.Join(u.home, "no-such-ca.pem"), "GODEBUG": "http2debug=2",
	}
	for k, v := range bad {
		u.env[k] = v
	}
	u.env["HTTP_PROXY"], u.env["https_proxy"], u.env["NO_PROXY"] = rec.URL, rec.URL, ".example.org"
	u.useCLIs()
	return u, rec, bad
}

// childEnviron parses `env` output.
func childEnviron(out string) map[string]string {
	m := map[string]string{}
	for _, l := range lines(out) {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}

// checkContract checks an environment the vault and consul CLIs ran in:
// none of bad is there, the proxies are, NO_PROXY names the stack.
func checkContract(t *testing.T, what string, env map[string]string, bad map[string]string, rec *hostile.Server, exec bool) {
	t.Helper()
	for k := range bad {
		if v, ok := env[k]; ok {
			t.Errorf("%s: %s=%s is still set", what, k, v)
		}
	}
	if env["HTTP_PROXY"] != rec.URL || env["https_proxy"] != rec.URL {
		t.Errorf("%s: the proxy variables were not kept: HTTP_PROXY=%q https_proxy=%q", what, env["HTTP_PROXY"], env["https_proxy"])
	}
	if exec && (!strings.HasPrefix(env["NO_PROXY"], ".example.org,") || !strings.Contains(env["NO_PROXY"], "127.0.0.1") || env["no_proxy"] != env["NO_PROXY"]) {
		t.Errorf("%s: NO_PROXY=%q no_proxy=%q, want .example.org and the stack's host", what, env["NO_PROXY"], env["no_proxy"])
	}
}

// vaultLookedUp checks the output of `vault token lookup -format=json`
// (the profile's token, from the real Vault) and that rec got no token.
func vaultLookedUp(t *testing.T, what, out string, rec *hostile.Server, tok string) {
	t.Helper()
	if !strings.Contains(out, `"id": "`+tok+`"`) {
		t.Errorf("%s: vault token lookup did not show the profile's token from the Vault:\n%s", what, out)
	}
	checkNoTokenAt(t, rec, tok, what)
	if n := len(rec.Requests()); n != 0 {
		t.Errorf("%s: %d requests reached %s", what, n, rec.URL)
	}
}

// shellScript is a shell and its arguments to run a script.
type shellScript struct {
	name string
	args []string
}

// shellsKeepContract runs each shell's script as u, one subtest each; a
// script applies what alilogin printed, runs `vault token lookup
// -format=json`, then `echo ---` and `env`. The lookup must reach the
// real Vault with tok (the recorder sees nothing), and the environment
// after it keep the contract (checkContract, as a shell, not exec).
func shellsKeepContract(t *testing.T, u *user, rec *hostile.Server, tok string, bad map[string]string, shells []shellScript) {
	t.Helper()
	for _, sh := range shells {
		t.Run(sh.name, func(t *testing.T) {
			cmd := exec.Command(requireTool(t, sh.name), sh.args...)
			cmd.Env = u.environ()
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			lookup, env, _ := strings.Cut(string(out), "\n---\n")
			vaultLookedUp(t, sh.name, lookup, rec, tok)
			checkContract(t, sh.name, childEnviron(env), bad, rec, false)
		})
	}
}

// TestExecRemovesRerouteVariables: `alilogin exec -- vault token lookup`
// with VAULT_AGENT_ADDR, VAULT_PROXY_ADDR, VAULT_HTTP_PROXY, BAO_ADDR...
// pointing at a recording server still reaches the real Vault, and the
// recorder sees nothing; `consul acl token read -self` uses the profile's
// token, not CONSUL_HTTP_TOKEN_FILE's; the child's environment has none
// of them, keeps HTTP_PROXY and https_proxy, and gets the stack's host in
// NO_PROXY and no_proxy.
func TestExecRemovesRerouteVariables(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, rec, bad := rerouted(t, ctx, "envc-exec-users")
	tok := tokenOut(u.ok(t, "token", "--for", "vault"))
	consulTok := tokenOut(u.ok(t, "token", "--for", "consul"))

	p := u.ok(t, "exec", "--", "vault", "token", "lookup", "-format=json")
	vaultLookedUp(t, "exec -- vault token lookup", p.stdout.String(), rec, tok)
	p = u.ok(t, "exec", "--", "consul", "acl", "token", "read", "-self", "-format=json")
	var self struct{ SecretID string }
	if err := json.Unmarshal([]byte(p.stdout.String()), &self); err != nil || self.SecretID != consulTok {
		t.Errorf("exec -- consul acl token read -self: not the profile's token (%v)\n%s", err, p.stdout.String())
	}
	checkContract(t, "exec -- env", childEnviron(u.ok(t, "exec", "--", "env").stdout.String()), bad, rec, true)
}

// TestEnvUnsetsRerouteVariables: in bash, zsh and fish, the shell that
// applied `alilogin env` runs `vault token lookup` against the real
// Vault (the recorder sees nothing) and has none of the variables that
// would reroute a token, but still its proxy variables; the JSON and
// PowerShell outputs remove them too.
func TestEnvUnsetsRerouteVariables(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, rec, bad := rerouted(t, ctx, "envc-env-users")
	tok := tokenOut(u.ok(t, "token", "--for", "vault"))
	const posix = `eval "$("$ALILOGIN" env)" || exit 1; vault token lookup -format=json || exit 1; echo ---; env`
	shellsKeepContract(t, u, rec, tok, bad, []shellScript{
		{"bash", []string{"--norc", "--noprofile", "-c", posix}},
		{"zsh", []string{"-f", "-c", posix}},
		{"fish", []string{"--no-config", "-c", `$ALILOGIN env --shell fish | source; or exit 1; vault token lookup -format=json; or exit 1; echo ---; env`}},
	})
	t.Run("json", func(t *testing.T) {
		var m map[string]*string
		if err := json.Unmarshal([]byte(u.ok(t, "env", "--shell", "json").stdout.String()), &m); err != nil {
			t.Fatal(err)
		}
		for k := range bad {
			if v, ok := m[k]; !ok || v != nil {
				t.Errorf("%s: %v in the JSON, want null", k, v)
			}
		}
		if _, ok := m["HTTP_PROXY"]; ok {
			t.Errorf("the JSON touches HTTP_PROXY")
		}
	})
	t.Run("powershell", func(t *testing.T) {
		out := u.ok(t, "env", "--shell", "powershell").stdout.String()
		for k := range bad {
			if !strings.Contains(out, "Remove-Item Env:"+k+" -ErrorAction SilentlyContinue\n") {
				t.Errorf("no removal of %s in\n%s", k, out)
			}
		}
	})
}

// TestHookUnsetsRerouteVariables: the shell hook's refresh (what
// `alilogin hook SHELL --env` prints, applied by bash, zsh and fish as
// the snippet applies it) leaves none of the variables that would
// reroute a token, and the vault CLI reaches the real Vault.
func TestHookUnsetsRerouteVariables(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, rec, bad := rerouted(t, ctx, "envc-hook-users")
	tok := tokenOut(u.ok(t, "token", "--for", "vault"))
	shellsKeepContract(t, u, rec, tok, bad, []shellScript{
		{"bash", []string{"--norc", "--noprofile", "-c", `eval "$("$ALILOGIN" hook bash --env)"; vault token lookup -format=json || exit 1; echo ---; env`}},
		{"zsh", []string{"-f", "-c", `eval "$("$ALILOGIN" hook zsh --env)"; vault token lookup -format=json || exit 1; echo ---; env`}},
		{"fish", []string{"--no-config", "-c", `$ALILOGIN hook fish --env | source; vault token lookup -format=json; or exit 1; echo ---; env`}},
	})
}

// TestVaultTokenHelperRefusesRerouteVariables: the real vault CLI, with
// the token helper installed, gets no token (`vault print token` prints
// nothing) when its environment has a variable of the contract that
// would reroute the token or weaken the check of the Vault (each one the
// vault CLI itself runs with) or a GODEBUG that would print it; and gets
// it with HTTP_PROXY for a loopback Vault, a BAO_ variable (the vault CLI
// reads none) or VAULT_CACERT next to SSL_CERT_FILE (then irrelevant).
// The LOCALHOST spelling is TestLoopbackSpellingNeverThroughProxy's.
func TestVaultTokenHelperRefusesRerouteVariables(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, _, tok := tokenHelperUser(t, ctx, "envc-vth-users")
	rec := otherVault(t)
	// A CA file the vault CLI can load (it is not used: the stack's Vault
	// is http), and an empty directory of CAs.
	tlsSrv := hostile.NewTLSServer(http.NotFoundHandler())
	tlsSrv.Close()
	ca := filepath.Join(u.home, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	caDir := t.TempDir()
	for _, c := range []struct {
		name   string
		env    map[string]string
		served bool
	}{
		{"nothing", nil, true},
		{"VAULT_SKIP_VERIFY", map[string]string{"VAULT_SKIP_VERIFY": "true"}, false},
		{"VAULT_SRV_LOOKUP", map[string]string{"VAULT_SRV_LOOKUP": "true"}, false},
		{"VAULT_CAPATH", map[string]string{"VAULT_CAPATH": caDir}, false},
		{"SSL_CERT_FILE", map[string]string{"SSL_CERT_FILE": ca}, false},
		{"SSL_CERT_DIR", map[string]string{"SSL_CERT_DIR": caDir}, false},
		{"GODEBUG=http2debug=1", map[string]string{"GODEBUG": "http2debug=1"}, false},
		{"HTTP_PROXY, loopback VAULT_ADDR", map[string]string{"HTTP_PROXY": rec.URL}, true},
		{"BAO_ADDR, for the vault CLI", map[string]string{"BAO_ADDR": rec.URL}, true},
		{"SSL_CERT_FILE with VAULT_CACERT", map[string]string{"SSL_CERT_FILE": ca, "VAULT_CACERT": ca}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := *u
			o.env = map[string]string{}
			for k, v := range u.env {
				o.env[k] = v
			}
			for k, v := range c.env {
				o.env[k] = v
			}
			out, errText, code := vaultCLI(t, &o, "", "print", "token")
			got := strings.TrimSuffix(out, "\n")
			if c.served && (code != 0 || got != tok) {
				t.Errorf("vault print token: exit %d, %d bytes; want the profile's token\n%s", code, len(got), errText)
			}
			// Refused: the CLI runs, without a token (the helper's
			// stderr is the CLI's to drop).
			if !c.served && (code != 0 || got != "") {
				t.Errorf("vault print token: exit %d, %d bytes; want no token and exit 0\n%s", code, len(got), errText)
			}
		})
	}
	checkNoTokenAt(t, rec, tok, "the helper's refusals")
}

// TestHookUnsetsRerouteVariableSetAfterRefresh: a variable that would
// send the token elsewhere, exported after the hook's refresh (a sourced
// project setup, a direnv .envrc pointing the vault CLI at its agent),
// is unset at the next prompt, not when the tokens need renewing: the
// real vault CLI of the hooked bash never sends the profile's token to
// that agent.
func TestHookUnsetsRerouteVariableSetAfterRefresh(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, tok := cliUser(t, ctx, "hooklater-users")
	agent := otherVault(t)
	u.env["AGENT"] = agent.URL
	// What bash does before each prompt: PROMPT_COMMAND, __alilogin_hook.
	script := `eval "$("$ALILOGIN" hook bash)" || exit 1
__alilogin_hook   # prompt 1: tokens exported
[[ -n ${VAULT_TOKEN-} ]] || { echo "no VAULT_TOKEN after the first refresh"; exit 1; }
export VAULT_AGENT_ADDR=$AGENT   # the user sources a project's setup
__alilogin_hook   # prompt 2
echo "VAULT_AGENT_ADDR=${VAULT_AGENT_ADDR-unset}"
vault token lookup >/dev/null 2>&1
true`
	cmd := exec.Command(requireTool(t, "bash"), "--norc", "--noprofile", "-c", script)
	cmd.Env = u.environ()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, strings.ReplaceAll(string(out), tok, "<TOKEN>"))
	}
	if !strings.Contains(string(out), "VAULT_AGENT_ADDR=unset") {
		t.Errorf("VAULT_AGENT_ADDR survived the next prompt: %s", strings.ReplaceAll(string(out), tok, "<TOKEN>"))
	}
	checkNoTokenAt(t, agent, tok, "the hooked shell's vault CLI")
}

// TestHookStateNotTakenFromEnvironment: a shell started with hook state
// that a hostile launcher set (__alilogin_next far ahead,
// __alilogin_profile and __alilogin_addrs matching what the shell
// inherits) and a token of the launcher's choosing in VAULT_TOKEN (its
// own account: what the user then writes to Vault goes there) still
// refreshes at its first prompt: the shell then holds the profile's
// token.
func TestHookStateNotTakenFromEnvironment(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, tok := cliUser(t, ctx, "hookstate-users")
	u.env["WANT"] = tok
	u.env["VAULT_TOKEN"] = "hvs.the-launchers-own-token"
	u.env["__alilogin_vars"] = "VAULT_TOKEN"
	u.env["__alilogin_next"] = "99999999999"
	u.env["__alilogin_profile"] = u.env["ALILOGIN_PROFILE"]
	u.env["__alilogin_addrs"] = u.env["VAULT_ADDR"] + "|" + u.env["NOMAD_ADDR"] + "|" + u.env["CONSUL_HTTP_ADDR"]
	script := `eval "$("$ALILOGIN" hook bash)" || exit 1
__alilogin_hook
if [[ "${VAULT_TOKEN-}" == "$WANT" ]]; then echo "profile's token"; else echo "not the profile's token"; fi`
	cmd := exec.Command(requireTool(t, "bash"), "--norc", "--noprofile", "-c", script)
	cmd.Env = u.environ()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, strings.ReplaceAll(string(out), tok, "<TOKEN>"))
	}
	if !strings.Contains(string(out), "profile's token") || strings.Contains(string(out), "not the profile's token") {
		t.Errorf("the hook did not refresh at the first prompt: %s", strings.ReplaceAll(string(out), tok, "<TOKEN>"))
	}
}

// useCLIs puts alilogin (also as $ALILOGIN) and the stack's server CLIs on
// u's PATH, for the scripts a test runs as u.
func (u *user) useCLIs() {
	u.env["PATH"] = filepath.Dir(bin) + ":" + teststack.BinDir() + ":" + os.Getenv("PATH")
	u.env["ALILOGIN"] = bin
}

// cliUser is a kvUser of roles with useCLIs, and the profile's Vault
// token it holds.
func cliUser(t *testing.T, ctx context.Context, roles string) (*user, string) {
	t.Helper()
	u, _ := kvUser(t, ctx, roles)
	tok := tokenOut(u.ok(t, "token", "--for", "vault"))
	u.useCLIs()
	return u, tok
}
