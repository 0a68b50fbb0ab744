package e2e

import (
	"context"
	"encoding/json"
	"fmt"
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

// tokenHelperUser is a kvUser with alilogin set up as the vault CLI's
// token helper (`setup --vault-token-helper`), and its Vault token.
func tokenHelperUser(t *testing.T, ctx context.Context, roles string) (u *user, profile, tok string) {
	t.Helper()
	u, profile = kvUser(t, ctx, roles)
	u.ok(t, "setup", "--vault-token-helper")
	return u, profile, tokenOut(u.ok(t, "token", "--for", "vault"))
}

// vaultCLI runs the stack's real vault binary as u, without VAULT_TOKEN.
func vaultCLI(t *testing.T, u *user, stdin string, args ...string) (string, string, int) {
	t.Helper()
	vault, err := teststack.Bin("vault")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(vault, args...)
	for k, v := range u.env {
		if k != "VAULT_TOKEN" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// TestVaultTokenHelper: after `alilogin setup --vault-token-helper`, the
// real vault CLI with no VAULT_TOKEN asks alilogin for the profile's
// token: `vault token lookup` and `vault kv get` work, also after the
// token was renewed; `vault login` cannot store another token; erase logs
// the profile out; logged out, get prints nothing and exits 0.
func TestVaultTokenHelper(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, profile := kvUser(t, ctx, "vth-users")
	// The vault CLI's own config file, with a setting of the user's that
	// must survive.
	vaultCfg := filepath.Join(u.home, ".vault")
	if err := os.WriteFile(vaultCfg, []byte("# my vault CLI settings\ntoken_helper = \"/old/helper\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	u.ok(t, "setup", "--vault-token-helper")
	cfg, err := os.ReadFile(vaultCfg)
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(u.env["XDG_CONFIG_HOME"], "alilogin", "vault-token-helper")
	if want := "# my vault CLI settings\ntoken_helper = \"" + script + "\"\n"; string(cfg) != want {
		t.Errorf("~/.vault:\n%s\nwant:\n%s", cfg, want)
	}
	if st, err := os.Stat(script); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("helper script: %v, mode %v; want 0700", err, st.Mode())
	}

	tok := tokenOut(u.ok(t, "token", "--for", "vault"))
	// get decides from the program that runs it: run by this test, whose
	// own environment names no Vault, it gives nothing (exit 0, one line
	// on stderr); run by the vault CLI, the login's token (the CLI takes
	// it only without a newline: the commands below prove that).
	get := u.ok(t, "vault-token-helper", "get")
	if get.stdout.String() != "" || !strings.Contains(get.stderr.String(), "no token from the token helper") {
		t.Errorf("get run by a program that is not the vault CLI printed %q (stderr %q), want nothing", get.stdout.String(), get.stderr.String())
	}
	if out, errText, code := vaultCLI(t, u, "", "print", "token"); code != 0 || strings.TrimSuffix(out, "\n") != tok {
		t.Errorf("vault print token: exit %d, %d bytes, want the login's token\n%s", code, len(out), errText)
	}

	out, errText, code := vaultCLI(t, u, "", "token", "lookup", "-format=json")
	if code != 0 || !strings.Contains(out, teststack.VaultPolicy(profile)) {
		t.Fatalf("vault token lookup: exit %d\n%s\n%s", code, out, errText)
	}
	out, errText, code = vaultCLI(t, u, "", "kv", "get", "-field=password", "secret/"+profile+"/allowed")
	if code != 0 || out != "v2-pass-"+profile {
		t.Fatalf("vault kv get: exit %d, %q\n%s", code, out, errText)
	}
	if _, errText, code = vaultCLI(t, u, "", "kv", "get", "secret/"+profile+"/denied"); code == 0 || !strings.Contains(errText, "403") {
		t.Errorf("vault kv get of the denied path: exit %d\n%s", code, errText)
	}

	// Renewal: the record says the token is about to expire; the next
	// vault command gets it renewed at Vault (renew-self), not re-made.
	rec := mustRecord(t, u, profile)
	rec.Vault.ExpiresAt = time.Now().Add(time.Minute)
	putRecord(t, u, rec)
	if out, errText, code = vaultCLI(t, u, "", "kv", "get", "-field=port", "secret/"+profile+"/allowed"); code != 0 || out != "8443" {
		t.Fatalf("vault kv get after renewal: exit %d, %q\n%s", code, out, errText)
	}
	rec = mustRecord(t, u, profile)
	if time.Until(rec.Vault.ExpiresAt) < 30*time.Minute || rec.Vault.Secret.Reveal() != tok {
		t.Errorf("after the helper's get: token the same %v, valid for %s; want the same token renewed",
			rec.Vault.Secret.Reveal() == tok, time.Until(rec.Vault.ExpiresAt).Round(time.Second))
	}

	// The helper gives nothing (exit 0: the vault CLI goes on without a
	// token, as for any other Vault) for a vault CLI that would send the
	// token to its default address.
	noAddr := *u
	noAddr.env = map[string]string{}
	for k, v := range u.env {
		noAddr.env[k] = v
	}
	delete(noAddr.env, "VAULT_ADDR")
	if out, errText, code := vaultCLI(t, &noAddr, "", "print", "token"); code != 0 || strings.TrimSpace(out) != "" {
		t.Errorf("vault print token without VAULT_ADDR: exit %d, %d bytes on stdout, stderr %q", code, len(out), errText)
	}

	// vault login calls store with the new token: refused, and said.
	_, errText, code = vaultCLI(t, u, tok, "login", "-")
	if code == 0 || !strings.Contains(errText, "does not keep a token from 'vault login'") {
		t.Errorf("vault login: exit %d\n%s", code, errText)
	}
	if strings.Contains(errText, tok) {
		t.Errorf("the token is in vault login's error")
	}

	// erase: the profile is logged out, its token revoked.
	if p := u.run(t, "vault-token-helper", "erase"); p.code() != 0 {
		t.Fatalf("erase: exit %d\n%s", p.code(), p.stderr.String())
	}
	if err := stack.Vault.Client().WithToken(rec.Vault.Secret).Do(ctx, "GET", "/v1/auth/token/lookup-self", nil, nil); err == nil {
		t.Errorf("the Vault token still works after erase")
	}
	p := u.ok(t, "vault-token-helper", "get")
	if p.stdout.String() != "" {
		t.Errorf("get when logged out printed %q, want nothing", p.stdout.String())
	}
	if _, _, code = vaultCLI(t, u, "", "token", "lookup"); code == 0 {
		t.Errorf("vault token lookup works after erase")
	}
}

// TestVaultTokenHelperSurvivesUpgradeAndUndo: the helper script set up
// from a binary that then moves (a downloaded binary replaced by an
// install elsewhere, here ~/.local/bin) still serves the real vault CLI;
// a refusal, which the vault CLI does not show, is in `alilogin status`
// and its --json; `setup --vault-token-helper --remove` puts the
// token_helper it replaced back, keeps the other settings of ~/.vault and
// removes the script.
func TestVaultTokenHelperSurvivesUpgradeAndUndo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, profile := kvUser(t, ctx, "vthup-users")
	vaultCfg := filepath.Join(u.home, ".vault")
	before := "# my vault CLI settings\ntoken_helper = \"/old/helper\"\n"
	if err := os.WriteFile(vaultCfg, []byte(before), 0o600); err != nil {
		t.Fatal(err)
	}
	// Set up from a copy of alilogin in ~/opt.
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	first := filepath.Join(u.home, "opt", "alilogin")
	if err := os.MkdirAll(filepath.Dir(first), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(first, b, 0o755); err != nil {
		t.Fatal(err)
	}
	setup := exec.Command(first, "setup", "--vault-token-helper")
	setup.Env = u.environ()
	if out, err := setup.CombinedOutput(); err != nil {
		t.Fatalf("setup: %v\n%s", err, out)
	}
	// The upgrade: the binary moves.
	moved := filepath.Join(u.home, ".local", "bin", "alilogin")
	if err := os.MkdirAll(filepath.Dir(moved), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(first, moved); err != nil {
		t.Fatal(err)
	}
	out, errText, code := vaultCLI(t, u, "", "token", "lookup", "-format=json")
	if code != 0 || !strings.Contains(out, teststack.VaultPolicy(profile)) {
		t.Fatalf("vault token lookup after the binary moved: exit %d\n%s\n%s", code, out, errText)
	}

	// A refusal: the vault CLI shows nothing of it, status does.
	noAddr := *u
	noAddr.env = map[string]string{}
	for k, v := range u.env {
		noAddr.env[k] = v
	}
	noAddr.env["VAULT_SKIP_VERIFY"] = "true"
	if out, errText, code := vaultCLI(t, &noAddr, "", "print", "token"); code != 0 || strings.TrimSpace(out) != "" || strings.Contains(errText, "VAULT_SKIP_VERIFY") {
		t.Fatalf("vault print token with VAULT_SKIP_VERIFY: exit %d, %d bytes, stderr %q: want no token and nothing said (the vault CLI drops it)", code, len(out), errText)
	}
	st := u.ok(t, "status")
	if !strings.Contains(st.stdout.String(), "vault token helper:") || !strings.Contains(st.stdout.String(), "VAULT_SKIP_VERIFY") {
		t.Errorf("status does not show the token helper's refusal:\n%s", st.stdout.String())
	}
	var js struct {
		Refusal *struct {
			At      time.Time `json:"at"`
			Profile string    `json:"profile"`
			Reason  string    `json:"reason"`
		} `json:"token_helper_refusal"`
	}
	if err := json.Unmarshal([]byte(u.ok(t, "status", "--json").stdout.String()), &js); err != nil {
		t.Fatal(err)
	}
	if js.Refusal == nil || (js.Refusal.Profile != "" && js.Refusal.Profile != profile) || !strings.Contains(js.Refusal.Reason, "VAULT_SKIP_VERIFY") || time.Since(js.Refusal.At) > time.Minute {
		t.Errorf("status --json token_helper_refusal: %+v", js.Refusal)
	}
	state := filepath.Join(u.env["XDG_STATE_HOME"], "alilogin", "vault-token-helper.refusal")
	if fi, err := os.Stat(state); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the refusal file: %v, %v; want mode 0600", err, fi)
	}
	// A token given since: the refusal is over.
	if _, errText, code := vaultCLI(t, u, "", "token", "lookup"); code != 0 {
		t.Fatalf("vault token lookup: exit %d\n%s", code, errText)
	}
	if st := u.ok(t, "status"); strings.Contains(st.stdout.String(), "vault token helper:") {
		t.Errorf("status still shows a refusal after a token was given:\n%s", st.stdout.String())
	}

	// Undo.
	u.ok(t, "setup", "--vault-token-helper", "--remove")
	if got, _ := os.ReadFile(vaultCfg); string(got) != before {
		t.Errorf("~/.vault after --remove:\n%s\nwant:\n%s", got, before)
	}
	script := filepath.Join(u.env["XDG_CONFIG_HOME"], "alilogin", "vault-token-helper")
	if _, err := os.Stat(script); !os.IsNotExist(err) {
		t.Errorf("the helper script is still there: %v", err)
	}
}

// TestVaultHelperRefusesBinaryOthersCanReplace: the helper script execs
// the alilogin binary that ran setup; setup refuses a binary that
// another user could replace (in a directory anyone may write), as it
// refuses such a place for the script, and writes nothing: no script,
// no token_helper. The same binary in a directory of the user's own is
// accepted, and the script names it.
func TestVaultHelperRefusesBinaryOthersCanReplace(t *testing.T) {
	u := newUser(t)
	copyBin := func(dir string, mode os.FileMode) string {
		t.Helper()
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "alilogin")
		if err := os.WriteFile(p, b, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	vaultCfg := filepath.Join(u.home, ".vault")
	script := filepath.Join(u.env["XDG_CONFIG_HOME"], "alilogin", "vault-token-helper")

	shared := copyBin(filepath.Join(t.TempDir(), "shared-bin"), 0o777)
	p := u.startBin(t, shared, "setup", "--vault-token-helper")
	if code, err := p.wait(time.Minute); err != nil || code == 0 {
		t.Errorf("setup from %s (a directory anyone may write): exit %d, %v; want a refusal\nstderr:\n%s", shared, code, err, p.stderr.String())
	}
	if !strings.Contains(p.stderr.String(), "is writable by group or others") {
		t.Errorf("setup's refusal does not say why:\n%s", p.stderr.String())
	}
	for _, f := range []string{vaultCfg, script} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s written by a refused setup (%v)", f, err)
		}
	}

	own := copyBin(filepath.Join(u.home, "bin"), 0o755)
	p = u.startBin(t, own, "setup", "--vault-token-helper")
	if code, err := p.wait(time.Minute); err != nil || code != 0 {
		t.Fatalf("setup from %s: exit %d, %v\nstderr:\n%s", own, code, err, p.stderr.String())
	}
	if b, err := os.ReadFile(script); err != nil || !strings.Contains(string(b), "for b in '"+own+"' ") {
		t.Errorf("helper script %s: %q, %v; want it to try %s first", script, b, err, own)
	}
}

// TestVaultHelperConfigDirWithSpace: the vault CLI runs
// token_helper through `$SHELL -c "<path> get"` with the path unquoted,
// so a helper script in a directory with a space (macOS's default
// ~/Library/Application Support/alilogin) is never run: plain vault
// commands fail after `setup --vault-token-helper`.
func TestVaultHelperConfigDirWithSpace(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, profile := kvUser(t, ctx, "vth13s-users")
	spaced := filepath.Join(u.home, "Application Support")
	if err := os.MkdirAll(spaced, 0o700); err != nil {
		t.Fatal(err)
	}
	// alilogin's own config dir moves with XDG_CONFIG_HOME: keep its files.
	old := filepath.Join(u.env["XDG_CONFIG_HOME"], "alilogin")
	if _, err := os.Stat(old); err == nil {
		if err := os.Rename(old, filepath.Join(spaced, "alilogin")); err != nil {
			t.Fatal(err)
		}
	}
	u.env["XDG_CONFIG_HOME"] = spaced
	u.ok(t, "setup", "--vault-token-helper")
	out, errText, code := vaultCLI(t, u, "", "kv", "get", "-field=password", "secret/"+profile+"/allowed")
	if code != 0 || out != "v2-pass-"+profile {
		t.Errorf("vault kv get with the helper in %q: exit %d, %q\n%s", spaced, code, out, strings.TrimSpace(errText))
	}
}

// TestVaultHelperOtherVaultStillUsable: setup replaces the user's
// token_helper, and for a VAULT_ADDR of another Vault `get` fails (exit
// 4) instead of giving no token, so after `setup --vault-token-helper`
// the vault CLI cannot talk to any other Vault at all (it stops at
// "failed to get token from token helper"), not even for `vault status`
// or `vault login`. It must not get the token either.
func TestVaultHelperOtherVaultStillUsable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, _, tok := tokenHelperUser(t, ctx, "vth13o-users")
	other := hostile.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"type":"shamir","initialized":true,"sealed":false,"t":1,"n":1,"progress":0,"version":"1.13.0","cluster_name":"other","cluster_id":"other"}`))
	}))
	t.Cleanup(other.Close)
	o := *u
	o.env = map[string]string{}
	for k, v := range u.env {
		o.env[k] = v
	}
	o.env["VAULT_ADDR"] = other.URL
	_, errText, _ := vaultCLI(t, &o, "", "status")
	if strings.Contains(errText, "token helper") {
		t.Errorf("vault status against another Vault fails in the token helper:\n%s", strings.TrimSpace(errText))
	}
	for _, r := range other.Requests() {
		if r.Header.Get("X-Vault-Token") == tok {
			t.Errorf("the token reached the other Vault (%s %s)", r.Method, r.Path)
		}
	}
}

// TestVaultTokenHelperAddressFlagOwnVault: the helper reads the vault
// command's -address (Linux): one naming the login's Vault, in another
// spelling of the same address, still gets the token, so the refusal of
// another Vault's address is not a refusal of every -address.
func TestVaultTokenHelperAddressFlagOwnVault(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, _ := kvUser(t, ctx, "vthaddr-users")
	u.ok(t, "setup", "--vault-token-helper")
	own := strings.Replace(u.env["VAULT_ADDR"], "http://", "HTTP://", 1) + "/"
	out, errText, code := vaultCLI(t, u, "", "token", "lookup", "-format=json", "--address", own)
	if code != 0 || !strings.Contains(out, `"display_name"`) {
		t.Errorf("vault token lookup --address %s: exit %d\n%s", own, code, strings.TrimSpace(errText))
	}
}

// TestVaultHelperAddressFlagGetsNoToken: with the token helper
// installed and VAULT_ADDR naming the login's Vault, `vault -address=X`
// (a user checking another Vault, or a script's flag) makes the vault CLI
// ask the helper for a token and send it to X: the profile's Vault token
// reaches another origin. A token must go only to its own Vault.
func TestVaultHelperAddressFlagGetsNoToken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, _, tok := tokenHelperUser(t, ctx, "vth13-users")

	other := hostile.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"errors":["permission denied"]}`))
	}))
	t.Cleanup(other.Close)

	_, _, _ = vaultCLI(t, u, "", "token", "lookup", "-address="+other.URL)
	for _, r := range other.Requests() {
		if r.Header.Get("X-Vault-Token") == tok {
			t.Errorf("the profile's Vault token was sent to %s (%s %s), not the login's Vault %s", other.URL, r.Method, r.Path, u.env["VAULT_ADDR"])
		}
	}
}

// otherVault is a server that is not the login's Vault and records
// what reaches it (as a Vault, or as an HTTP proxy).
func otherVault(t *testing.T) *hostile.Server {
	t.Helper()
	other := hostile.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"errors":["permission denied"]}`))
	}))
	t.Cleanup(other.Close)
	return other
}

func checkNoTokenAt(t *testing.T, other *hostile.Server, tok, what string) {
	t.Helper()
	for _, r := range other.Requests() {
		if r.Header.Get("X-Vault-Token") == tok {
			t.Errorf("%s: the profile's Vault token reached %s (%s %s)", what, other.URL, r.Method, r.Path)
		}
	}
}

// TestVaultHelperProxyEnvGetsNoToken: the helper refuses when
// VAULT_AGENT_ADDR is set, but the vault CLI also sends its requests
// through the HTTP proxy VAULT_PROXY_ADDR (or the older VAULT_HTTP_PROXY)
// names, loopback included: with an http:// Vault the proxy reads the
// X-Vault-Token header the helper's token went into.
func TestVaultHelperProxyEnvGetsNoToken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, _, tok := tokenHelperUser(t, ctx, "vth13bp-users")
	for _, name := range []string{"VAULT_PROXY_ADDR", "VAULT_HTTP_PROXY"} {
		t.Run(name, func(t *testing.T) {
			proxy := otherVault(t)
			o := *u
			o.env = map[string]string{}
			for k, v := range u.env {
				o.env[k] = v
			}
			o.env[name] = proxy.URL
			_, _, _ = vaultCLI(t, &o, "", "token", "lookup")
			if len(proxy.Requests()) == 0 {
				t.Fatalf("the vault CLI did not use %s=%s", name, proxy.URL)
			}
			checkNoTokenAt(t, proxy, tok, name)
		})
	}
}

// TestVaultHelperFlagAfterArgument: the vault CLI parses flags
// only up to the first argument (Go's flag package), but the helper
// reads every -address of the command line and takes the last: in
// `vault read -address=OTHER PATH -address=OWN` the CLI talks to OTHER
// (the trailing text is data for read) while the helper sees OWN and
// gives the token. Likewise the helper does not know which flags take a
// value: `-field --` or `-field -address=OWN` hide or fake an -address.
func TestVaultHelperFlagAfterArgument(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, profile, tok := tokenHelperUser(t, ctx, "vth13bf-users")
	path := "secret/" + profile + "/allowed"
	for _, c := range []struct {
		name string
		args func(other string) []string
	}{
		{"flag after the path", func(other string) []string {
			return []string{"read", "-address=" + other, path, "-address=" + u.env["VAULT_ADDR"]}
		}},
		// -field takes "--" as its value; the helper stops there.
		{"-- as a flag's value", func(other string) []string {
			return []string{"read", "-field", "--", "-address=" + other, path}
		}},
		// -field takes "-address=OWN" as its value.
		{"-address=OWN as a flag's value", func(other string) []string {
			return []string{"read", "-address", other, "-field", "-address=" + u.env["VAULT_ADDR"], path}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			other := otherVault(t)
			args := c.args(other.URL)
			_, _, _ = vaultCLI(t, u, "", args...)
			if len(other.Requests()) == 0 {
				t.Fatalf("the vault CLI did not talk to %s: vault %v", other.URL, args)
			}
			checkNoTokenAt(t, other, tok, fmt.Sprintf("vault %v", args))
		})
	}
}

// TestVaultHelperCLINotNamedVault: the helper finds the vault
// command line by the program's name "vault"; a vault CLI installed
// under another name (vault-1.13, as versioned installs do) is not
// found, and then the helper trusts VAULT_ADDR alone: its -address to
// another Vault gets the token, though docs promise that on Linux no
// -address naming another Vault gets it.
func TestVaultHelperCLINotNamedVault(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, _, tok := tokenHelperUser(t, ctx, "vth13bn-users")
	other := otherVault(t)
	vault, err := teststack.Bin("vault")
	if err != nil {
		t.Fatal(err)
	}
	renamed := filepath.Join(t.TempDir(), "vault-1.13")
	if err := os.Link(vault, renamed); err != nil {
		t.Fatalf("could not link the vault binary: %v", err)
	}
	cmd := exec.Command(renamed, "token", "lookup", "-address="+other.URL)
	for k, v := range u.env {
		if k != "VAULT_TOKEN" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	_, _ = cmd.CombinedOutput()
	if len(other.Requests()) == 0 {
		t.Fatalf("the vault CLI did not talk to %s", other.URL)
	}
	checkNoTokenAt(t, other, tok, "vault-1.13 token lookup -address=OTHER")
}

// TestVaultHelperShellStartupSetsVaultAddr: the vault CLI runs
// the helper through `$SHELL -c`, and zsh reads ~/.zshenv, fish its
// config.fish, for every -c: a user who keeps `export VAULT_ADDR=<the
// login's Vault>` there (the usual place for a zsh or fish user's
// variables) and runs `VAULT_ADDR=OTHER vault ...` for another Vault has
// a helper that sees the login's address, not the one the vault CLI
// uses, and gives the token, which the CLI sends to OTHER. The helper
// checks its own environment, not the vault process's.
func TestVaultHelperShellStartupSetsVaultAddr(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, _, tok := tokenHelperUser(t, ctx, "vth13bz-users")
	own := u.env["VAULT_ADDR"]
	for _, c := range []struct{ shell, file, line string }{
		{"zsh", filepath.Join(u.home, ".zshenv"), "export VAULT_ADDR=" + own + "\n"},
		{"fish", filepath.Join(u.env["XDG_CONFIG_HOME"], "fish", "config.fish"), "set -gx VAULT_ADDR " + own + "\n"},
	} {
		t.Run(c.shell, func(t *testing.T) {
			sh, err := exec.LookPath(c.shell)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Dir(c.file), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(c.file, []byte(c.line), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove(c.file) })
			other := otherVault(t)
			o := *u
			o.env = map[string]string{}
			for k, v := range u.env {
				o.env[k] = v
			}
			o.env["SHELL"] = sh
			o.env["VAULT_ADDR"] = other.URL
			_, _, _ = vaultCLI(t, &o, "", "token", "lookup")
			if len(other.Requests()) == 0 {
				t.Fatalf("the vault CLI did not talk to %s", other.URL)
			}
			checkNoTokenAt(t, other, tok, "SHELL="+c.shell+" VAULT_ADDR=OTHER vault token lookup")
		})
	}
}
