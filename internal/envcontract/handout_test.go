package envcontract_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/envcontract"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/shellenv"
	"github.com/alisw/alilogin/internal/store"
)

var allKinds = []store.Kind{store.Vault, store.Nomad, store.Consul}

func threeServers() (*config.Config, *store.Record) {
	now := time.Now()
	cfg := &config.Config{Vault: config.Server{Addr: "http://vault.example:8200"}, Nomad: config.Server{Addr: "https://nomad.example:4646"},
		Consul: config.Server{Addr: "https://consul.example:8501"}}
	rec := &store.Record{Profile: "ci",
		Vault:  &store.Token{Secret: secret.New("hvs.bound"), ExpiresAt: now.Add(time.Hour)},
		Nomad:  &store.Token{Secret: secret.New("nomad-secret"), ExpiresAt: now.Add(time.Hour)},
		Consul: &store.Token{Secret: secret.New("consul-secret"), ExpiresAt: now.Add(time.Hour)}}
	return cfg, rec
}

// child is the environment exec gives its child for the record's kinds.
func child(cfg *config.Config, rec *store.Record, kinds []store.Kind, environ []string) []string {
	return envcontract.FromRecord(cfg, rec, kinds).Child(environ)
}

// TestExecChildHasNoRerouteVariable: for every variable of the
// environment contract that would send a token elsewhere, or check its
// server more weakly, an exec child that gets the tokens does not
// inherit it (BAO_* too, set or empty), while the
// rest of the environment stays.
func TestExecChildHasNoRerouteVariable(t *testing.T) {
	cfg, rec := threeServers()
	names := []string{"BAO_ADDR", "BAO_TOKEN", "BAO_AGENT_ADDR", "BAO_PROXY_ADDR", "BAO_SKIP_VERIFY"}
	for _, r := range envcontract.Rules {
		if r.Class == envcontract.Reroute && !r.Prefix {
			names = append(names, r.Name)
		}
	}
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			for _, val := range []string{"http://elsewhere.example:8200", ""} {
				environ := []string{"PATH=/bin", n + "=" + val, "GIT_DIR=keep"}
				got := child(cfg, rec, allKinds, environ)
				if slices.ContainsFunc(got, func(kv string) bool { return strings.HasPrefix(kv, n+"=") }) {
					t.Errorf("the child inherits %s=%q: %q", n, val, got)
				}
				if !slices.Contains(got, "GIT_DIR=keep") || !slices.Contains(got, "VAULT_TOKEN=hvs.bound") {
					t.Errorf("child env %q", got)
				}
			}
		})
	}
}

// TestExecChildKeepsProxiesAndBypassesThem: HTTP_PROXY, HTTPS_PROXY and
// ALL_PROXY stay for git and curl, in both cases; NO_PROXY and no_proxy
// keep what they listed and gain the hosts of the servers whose tokens
// the child gets, so that no token goes through the proxy.
func TestExecChildKeepsProxiesAndBypassesThem(t *testing.T) {
	cfg, rec := threeServers()
	environ := []string{"HTTP_PROXY=http://proxy:3128", "https_proxy=http://proxy:3128", "ALL_PROXY=socks5://proxy:1080", "NO_PROXY=.cern.ch"}
	got := child(cfg, rec, allKinds, environ)
	for _, want := range append(environ[:3:3], "NO_PROXY=.cern.ch,vault.example,nomad.example,consul.example", "no_proxy=.cern.ch,vault.example,nomad.example,consul.example") {
		if !slices.Contains(got, want) {
			t.Errorf("no %s in the child's environment %q", want, got)
		}
	}
	// The servers in the contract's order, whatever order --for gives.
	got = child(cfg, rec, []store.Kind{store.Consul, store.Vault}, nil)
	if !slices.Contains(got, "NO_PROXY=vault.example,consul.example") {
		t.Errorf("--for consul,vault: the child's environment %q; want NO_PROXY=vault.example,consul.example", got)
	}
	got = child(cfg, rec, []store.Kind{store.Consul}, nil)
	if !slices.Contains(got, "NO_PROXY=consul.example") || slices.ContainsFunc(got, func(kv string) bool { return strings.Contains(kv, "vault.example") }) {
		t.Errorf("--for consul: the child's environment %q; want consul.example alone in NO_PROXY", got)
	}
}

// TestExecChildGODEBUGWithoutHTTP2Debug: GODEBUG=http2debug=1 or 2 would
// make a Go CLI print its X-Vault-Token header or its request frames:
// exec and env take http2debug out and keep the other settings.
func TestExecChildGODEBUGWithoutHTTP2Debug(t *testing.T) {
	cfg, rec := threeServers()
	vault := []store.Kind{store.Vault}
	for _, c := range []struct{ in, want string }{
		{"http2debug=2", ""},
		{"http2debug=1", ""},
		{"gctrace=1,http2debug=2,madvdontneed=1", "GODEBUG=gctrace=1,madvdontneed=1"},
		{"gctrace=1", "GODEBUG=gctrace=1"},
	} {
		environ := []string{"GODEBUG=" + c.in}
		got := child(cfg, rec, vault, environ)
		i := slices.IndexFunc(got, func(kv string) bool { return strings.HasPrefix(kv, "GODEBUG=") })
		if (i < 0) != (c.want == "") || i >= 0 && got[i] != c.want {
			t.Errorf("GODEBUG=%s: the child's environment %q, want %q", c.in, got, c.want)
		}
		vars := envcontract.FromRecord(cfg, rec, vault).Vars(environ)
		var b strings.Builder
		if err := shellenv.Write(&b, shellenv.Sh, vars); err != nil {
			t.Fatal(err)
		}
		line := "unset GODEBUG;"
		if c.want != "" {
			line = "export GODEBUG='" + strings.TrimPrefix(c.want, "GODEBUG=") + "';"
		}
		if strings.Contains(b.String(), "http2debug") || strings.Contains(c.in, "http2debug") != strings.Contains(b.String(), line) {
			t.Errorf("env with GODEBUG=%s printed\n%s", c.in, b.String())
		}
	}
}

// TestExecChildUsesBoundVault: the vault CLI (and the Go
// API client of every tool built on it) sends VAULT_TOKEN to
// VAULT_AGENT_ADDR when that is set, ahead of VAULT_ADDR: exec's child
// gets the token and no VAULT_AGENT_ADDR naming another Vault.
func TestExecChildUsesBoundVault(t *testing.T) {
	now := time.Now()
	cfg := &config.Config{Vault: config.Server{Addr: "https://vault.cern.example:8200"}}
	rec := &store.Record{Profile: "ci", VaultAddr: "https://vault.cern.example:8200",
		Vault: &store.Token{Secret: secret.New("hvs.bound"), ExpiresAt: now.Add(time.Hour)}}
	environ := []string{"PATH=/bin", "VAULT_ADDR=https://vault.cern.example:8200", "VAULT_AGENT_ADDR=http://127.0.0.1:8100"}
	got := child(cfg, rec, []store.Kind{store.Vault}, environ)
	if !slices.Contains(got, "VAULT_TOKEN=hvs.bound") {
		t.Fatalf("no VAULT_TOKEN in %q", got)
	}
	for _, kv := range got {
		if v, ok := strings.CutPrefix(kv, "VAULT_AGENT_ADDR="); ok && v != cfg.Vault.Addr {
			t.Errorf("the child gets VAULT_TOKEN for %s and VAULT_AGENT_ADDR=%s, which the vault CLI uses instead of VAULT_ADDR: the token goes to another Vault", cfg.Vault.Addr, v)
		}
	}
}

// TestExecChildGetsNoNomadTokenWithoutNomadAddr: with no Nomad address configured (only
// VAULT_ADDR set), exec's child gets no NOMAD_TOKEN: the nomad CLI would
// send it to its default http://127.0.0.1:4646, in clear, to whoever
// listens there.
func TestExecChildGetsNoNomadTokenWithoutNomadAddr(t *testing.T) {
	now := time.Now()
	cfg := &config.Config{Vault: config.Server{Addr: "https://vault.cern.example:8200"}}
	rec := &store.Record{Profile: "ci", VaultAddr: "https://vault.cern.example:8200",
		Vault: &store.Token{Secret: secret.New("hvs.bound"), ExpiresAt: now.Add(time.Hour)},
		Nomad: &store.Token{Secret: secret.New("nomad-secret"), ExpiresAt: now.Add(time.Hour)}}
	got := child(cfg, rec, []store.Kind{store.Nomad}, []string{"PATH=/bin"})
	var tok, addr bool
	for _, kv := range got {
		tok = tok || strings.HasPrefix(kv, "NOMAD_TOKEN=")
		addr = addr || strings.HasPrefix(kv, "NOMAD_ADDR=")
	}
	if tok && !addr {
		t.Errorf("the child gets NOMAD_TOKEN without NOMAD_ADDR (the nomad CLI then uses http://127.0.0.1:4646): %q", got)
	}
}

// TestEnvUnsetsOverrides: `eval "$(alilogin env)"` in a
// shell that exports VAULT_AGENT_ADDR (which the vault CLI prefers to
// VAULT_ADDR) or CONSUL_HTTP_TOKEN_FILE (which the consul CLI prefers to
// CONSUL_HTTP_TOKEN) would send the new token elsewhere, or another
// token: env unsets them in every shell dialect, and exec's child does
// not have them.
func TestEnvUnsetsOverrides(t *testing.T) {
	now := time.Now()
	cfg := &config.Config{Vault: config.Server{Addr: "https://vault.cern.example:8200"}, Consul: config.Server{Addr: "https://consul.cern.example:8501"}}
	rec := &store.Record{Profile: "ci", VaultAddr: "https://vault.cern.example:8200",
		Vault:  &store.Token{Secret: secret.New("hvs.bound"), ExpiresAt: now.Add(time.Hour)},
		Consul: &store.Token{Secret: secret.New("consul-secret"), ExpiresAt: now.Add(time.Hour)}}
	h := envcontract.FromRecord(cfg, rec, []store.Kind{store.Vault, store.Consul})
	vars := h.Vars(nil)
	for shell, want := range map[string][]string{
		shellenv.Sh:         {"unset VAULT_AGENT_ADDR;\n", "unset CONSUL_HTTP_TOKEN_FILE;\n"},
		shellenv.Fish:       {"set -e VAULT_AGENT_ADDR; or true;\n", "set -e CONSUL_HTTP_TOKEN_FILE; or true;\n"},
		shellenv.PowerShell: {"Remove-Item Env:VAULT_AGENT_ADDR -ErrorAction SilentlyContinue\n", "Remove-Item Env:CONSUL_HTTP_TOKEN_FILE -ErrorAction SilentlyContinue\n"},
		shellenv.JSON:       {`"VAULT_AGENT_ADDR": null`, `"CONSUL_HTTP_TOKEN_FILE": null`},
	} {
		var b strings.Builder
		if err := shellenv.Write(&b, shell, vars); err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: no %q in\n%s", shell, w, b.String())
			}
		}
	}
	got := h.Child([]string{"CONSUL_HTTP_TOKEN_FILE=/tmp/other", "VAULT_AGENT_ADDR=http://127.0.0.1:8100"})
	for _, kv := range got {
		if strings.HasPrefix(kv, "CONSUL_HTTP_TOKEN_FILE") || strings.HasPrefix(kv, "VAULT_AGENT_ADDR") {
			t.Errorf("the child keeps %s", kv)
		}
	}
}

// TestEnvSkipsNamesThatAreNotIdentifiers: an inherited entry whose name
// is no shell identifier (bash passes "BAO_X-Y=1" on to its children)
// does not make `alilogin env` fail in any shell (and the hook with it):
// no CLI reads such a name, so it is not unset; BAO_ADDR still is.
func TestEnvSkipsNamesThatAreNotIdentifiers(t *testing.T) {
	cfg, rec := threeServers()
	vars := envcontract.FromRecord(cfg, rec, allKinds).Vars([]string{"BAO_X-Y=1", "BAO_ADDR=http://evil.example", "BAO_1.2=x"})
	for _, sh := range []string{shellenv.Sh, shellenv.Fish, shellenv.PowerShell, shellenv.JSON} {
		var b strings.Builder
		if err := shellenv.Write(&b, sh, vars); err != nil {
			t.Errorf("alilogin env fails: %v", err)
		}
	}
	unset := map[string]bool{}
	for _, v := range vars {
		unset[v.Name] = v.Unset
	}
	if !unset["BAO_ADDR"] {
		t.Errorf("BAO_ADDR is not unset")
	}
}

// TestExecChildDropsEveryCaseOnWindows: on Windows a variable's name is
// case-insensitive (the CLIs' os.Getenv and the Go runtime's GODEBUG
// find Vault_Agent_Addr for VAULT_AGENT_ADDR): exec's child there keeps
// no spelling of a variable the contract removes or alilogin sets, and
// env unsets each spelling; on Linux the names stay exact.
func TestExecChildDropsEveryCaseOnWindows(t *testing.T) {
	cfg, rec := threeServers()
	h := envcontract.FromRecord(cfg, rec, allKinds)
	environ := []string{"Vault_Agent_Addr=http://evil.example:8200", "bao_addr=http://evil.example:8200",
		"Consul_Http_Token_File=C:\\evil\\token", "godebug=http2debug=2", "Nomad_Skip_Verify=true", "vault_token=other", "Vault_Addr=http://evil.example:8200"}
	child := h.ChildOn(environ, "windows")
	for _, kv := range environ {
		for _, c := range child {
			if c == kv {
				n, _, _ := strings.Cut(kv, "=")
				t.Errorf("exec's child on windows keeps %s, which Windows programs read as %s", kv, strings.ToUpper(n))
			}
		}
	}
	for _, c := range child {
		if strings.Contains(c, "http2debug") {
			t.Errorf("exec's child on windows has %s", c)
		}
	}
	unset := map[string]bool{}
	for _, v := range h.VarsOn(environ, "windows") {
		if v.Unset {
			unset[v.Name] = true
		}
	}
	for _, n := range []string{"Vault_Agent_Addr", "bao_addr", "Consul_Http_Token_File", "Nomad_Skip_Verify"} {
		if !unset[n] {
			t.Errorf("env on windows does not unset %s", n)
		}
	}
	// Elsewhere the names are exact: another spelling is another
	// variable, which no CLI reads.
	linux := h.ChildOn(environ, "linux")
	if !strings.Contains(strings.Join(linux, "\n"), "Vault_Agent_Addr=") {
		t.Errorf("exec's child on linux lost Vault_Agent_Addr")
	}
}

// TestChildEnv: exec's child loses the stale tokens and the nesting
// marker it inherited, gets the handout's variables and the marker, and
// keeps the rest.
func TestChildEnv(t *testing.T) {
	environ := []string{"PATH=/bin", "VAULT_TOKEN=stale", "NOMAD_TOKEN=stale", "CONSUL_HTTP_TOKEN=stale", "CONSUL_TOKEN=stale", "ALILOGIN_EXEC=", "VAULT_ADDR=old", "GITHUB_TOKEN=keep"}
	h := envcontract.Handout{Profile: "ci", Endpoints: []envcontract.Endpoint{{Kind: store.Vault, Token: secret.New("new"), Addr: "https://v"}}}
	got := h.Child(environ)
	want := []string{"PATH=/bin", "GITHUB_TOKEN=keep", "VAULT_TOKEN=new", "VAULT_ADDR=https://v", "ALILOGIN_PROFILE=ci", "NO_PROXY=v", "no_proxy=v", "ALILOGIN_EXEC=ci"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("child env (-want +got):\n%s", d)
	}
}

// TestEnvVars: the tokens, addresses and TLS settings of the kinds
// asked for; the variables of the environment contract that would
// reroute them unset (the ones that matter only without a CA file only
// for a server without one; BAO_* as the environment has them); GODEBUG
// without http2debug; the proxy variables left alone; the profile and
// the earliest expiry of the tokens handed out.
func TestEnvVars(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	cfg := &config.Config{
		Vault:  config.Server{Addr: "https://vault:8200", TLS: apiclient.TLS{CACert: "/ca.pem", ClientCert: "/c.pem", ClientKey: "/k.pem"}},
		Nomad:  config.Server{Addr: "https://nomad:4646"},
		Consul: config.Server{Addr: "https://consul:8501"},
	}
	rec := &store.Record{Profile: "ci",
		Vault:  &store.Token{Secret: secret.New("hvs.v"), ExpiresAt: now.Add(time.Hour)},
		Nomad:  &store.Token{Secret: secret.New("n"), ExpiresAt: now.Add(30 * time.Minute)},
		Consul: &store.Token{Secret: secret.New("c"), ExpiresAt: now.Add(2 * time.Hour)}}
	got := map[string]string{}
	environ := []string{"BAO_ADDR=http://evil:8200", "GODEBUG=gctrace=1,http2debug=2", "HTTP_PROXY=http://proxy:3128", "VAULT_CAPATH=/etc/other"}
	for _, v := range envcontract.FromRecord(cfg, rec, []store.Kind{store.Vault, store.Nomad}).Vars(environ) {
		got[v.Name] = v.Value
		if v.Unset {
			got[v.Name] = "(unset)"
		}
	}
	want := map[string]string{
		"VAULT_TOKEN": "hvs.v", "VAULT_ADDR": "https://vault:8200", "VAULT_CACERT": "/ca.pem", "VAULT_CLIENT_CERT": "/c.pem", "VAULT_CLIENT_KEY": "/k.pem",
		"VAULT_AGENT_ADDR": "(unset)", "VAULT_PROXY_ADDR": "(unset)", "VAULT_HTTP_PROXY": "(unset)", "VAULT_SRV_LOOKUP": "(unset)",
		"VAULT_SKIP_VERIFY": "(unset)", "VAULT_CACERT_BYTES": "(unset)", "BAO_ADDR": "(unset)",
		"NOMAD_TOKEN": "n", "NOMAD_ADDR": "https://nomad:4646",
		"NOMAD_SKIP_VERIFY": "(unset)", "NOMAD_CAPATH": "(unset)", "SSL_CERT_FILE": "(unset)", "SSL_CERT_DIR": "(unset)",
		"GODEBUG":          "gctrace=1",
		"ALILOGIN_PROFILE": "ci", "ALILOGIN_TOKEN_EXPIRY": "2026-11-27T10:30:00Z",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
}

// TestStandInsLikeRealServers: a handout of stand-ins (a local proxy's
// addresses and the tokens it accepts, as the agent gives) goes through
// the same contract as a login's: their tokens with their addresses,
// the reroute variables unset, the servers' hosts in NO_PROXY; a
// plain-HTTP stand-in's server keeps no TLS variable of the real server
// (CA, client key, CONSUL_HTTP_SSL), another server's stay.
func TestStandInsLikeRealServers(t *testing.T) {
	exp := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	h := envcontract.Handout{Profile: "ci", Expiry: exp, Endpoints: []envcontract.Endpoint{
		{Kind: store.Nomad, Token: secret.New("gate-n"), Addr: "http://127.0.0.1:4000", Plain: true},
		{Kind: store.Consul, Token: secret.New("gate-c"), Addr: "http://127.0.0.1:4001", Plain: true},
	}}
	got := h.Child([]string{"NOMAD_TOKEN=real", "CONSUL_HTTP_TOKEN_FILE=/t", "NOMAD_CACERT=/ca.pem", "CONSUL_HTTP_SSL=true", "CONSUL_CLIENT_KEY=/k.pem", "PATH=/bin", "VAULT_CACERT=/v.pem"})
	want := []string{"PATH=/bin", "VAULT_CACERT=/v.pem", "NOMAD_TOKEN=gate-n", "NOMAD_ADDR=http://127.0.0.1:4000",
		"CONSUL_HTTP_TOKEN=gate-c", "CONSUL_HTTP_ADDR=http://127.0.0.1:4001", "ALILOGIN_PROFILE=ci", "ALILOGIN_TOKEN_EXPIRY=2026-11-27T10:00:00Z",
		"NO_PROXY=127.0.0.1", "no_proxy=127.0.0.1", "ALILOGIN_EXEC=ci"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("child env (-want +got):\n%s", d)
	}
}

// TestApplyReplacesEveryEntryOfAName: Apply (exec --secret's VAR=value
// over the child's environment) leaves one entry per name it sets,
// drops what it unsets, keeps the rest in order.
func TestApplyReplacesEveryEntryOfAName(t *testing.T) {
	got := envcontract.ApplyOn([]string{"A=1", "DB_PASSWORD=old", "B=2", "DB_PASSWORD=older", "C"},
		[]envcontract.Var{{Name: "DB_PASSWORD", Value: "new=value"}, {Name: "B", Unset: true}}, "linux")
	if d := cmp.Diff([]string{"A=1", "C", "DB_PASSWORD=new=value"}, got); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
}
