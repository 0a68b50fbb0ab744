package envcontract

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/store"
)

// reroutes is the contract written out by hand, one line per variable
// (and, for BAO_*, per variable the bao CLI is known to read plus one it
// may read tomorrow), so that a rule dropped from the table fails here.
var reroutes = []struct {
	name       string
	servers    []store.Kind
	clis       []CLI
	unlessCA   bool // irrelevant when the server's CA file is set
	emptyCount bool // present but empty is in force
	goRoots    bool // ignored on macOS and Windows
}{
	{name: "VAULT_AGENT_ADDR", servers: []store.Kind{store.Vault}, clis: []CLI{VaultCLI, BaoCLI}},
	{name: "VAULT_PROXY_ADDR", servers: []store.Kind{store.Vault}, clis: []CLI{VaultCLI, BaoCLI}},
	{name: "VAULT_HTTP_PROXY", servers: []store.Kind{store.Vault}, clis: []CLI{VaultCLI, BaoCLI}},
	{name: "VAULT_SRV_LOOKUP", servers: []store.Kind{store.Vault}, clis: []CLI{VaultCLI, BaoCLI}},
	{name: "VAULT_SKIP_VERIFY", servers: []store.Kind{store.Vault}, clis: []CLI{VaultCLI, BaoCLI}},
	{name: "VAULT_CACERT_BYTES", servers: []store.Kind{store.Vault}, clis: []CLI{VaultCLI, BaoCLI}},
	{name: "VAULT_CAPATH", servers: []store.Kind{store.Vault}, clis: []CLI{VaultCLI, BaoCLI}, unlessCA: true},
	{name: "BAO_ADDR", servers: []store.Kind{store.Vault}, clis: []CLI{BaoCLI}, emptyCount: true},
	{name: "BAO_TOKEN", servers: []store.Kind{store.Vault}, clis: []CLI{BaoCLI}, emptyCount: true},
	{name: "BAO_AGENT_ADDR", servers: []store.Kind{store.Vault}, clis: []CLI{BaoCLI}, emptyCount: true},
	{name: "BAO_PROXY_ADDR", servers: []store.Kind{store.Vault}, clis: []CLI{BaoCLI}, emptyCount: true},
	{name: "BAO_HTTP_PROXY", servers: []store.Kind{store.Vault}, clis: []CLI{BaoCLI}, emptyCount: true},
	{name: "BAO_SRV_LOOKUP", servers: []store.Kind{store.Vault}, clis: []CLI{BaoCLI}, emptyCount: true},
	{name: "BAO_SKIP_VERIFY", servers: []store.Kind{store.Vault}, clis: []CLI{BaoCLI}, emptyCount: true},
	{name: "BAO_CACERT", servers: []store.Kind{store.Vault}, clis: []CLI{BaoCLI}, emptyCount: true},
	{name: "BAO_CACERT_BYTES", servers: []store.Kind{store.Vault}, clis: []CLI{BaoCLI}, emptyCount: true},
	{name: "BAO_CLIENT_CERT_BYTES", servers: []store.Kind{store.Vault}, clis: []CLI{BaoCLI}, emptyCount: true},
	{name: "BAO_TOKEN_PATH", servers: []store.Kind{store.Vault}, clis: []CLI{BaoCLI}, emptyCount: true},
	{name: "BAO_A_FUTURE_SETTING", servers: []store.Kind{store.Vault}, clis: []CLI{BaoCLI}, emptyCount: true},
	{name: "NOMAD_SKIP_VERIFY", servers: []store.Kind{store.Nomad}, clis: []CLI{NomadCLI}},
	{name: "NOMAD_CAPATH", servers: []store.Kind{store.Nomad}, clis: []CLI{NomadCLI}, unlessCA: true},
	{name: "CONSUL_HTTP_TOKEN_FILE", servers: []store.Kind{store.Consul}, clis: []CLI{ConsulCLI}},
	{name: "CONSUL_HTTP_SSL_VERIFY", servers: []store.Kind{store.Consul}, clis: []CLI{ConsulCLI}},
	{name: "CONSUL_CAPATH", servers: []store.Kind{store.Consul}, clis: []CLI{ConsulCLI}, unlessCA: true},
	{name: "CONSUL_GRPC_ADDR", servers: []store.Kind{store.Consul}, clis: []CLI{ConsulCLI}},
	{name: "CONSUL_GRPC_CACERT", servers: []store.Kind{store.Consul}, clis: []CLI{ConsulCLI}},
	{name: "CONSUL_GRPC_CAPATH", servers: []store.Kind{store.Consul}, clis: []CLI{ConsulCLI}},
	{name: "SSL_CERT_FILE", servers: store.Kinds, clis: []CLI{VaultCLI, BaoCLI, NomadCLI, ConsulCLI}, unlessCA: true, goRoots: true},
	{name: "SSL_CERT_DIR", servers: store.Kinds, clis: []CLI{VaultCLI, BaoCLI, NomadCLI, ConsulCLI}, unlessCA: true, goRoots: true},
}

func none(string) bool { return false }

// TestRerouteVariables: for every variable that would reroute a token
// or weaken the server check, for every server and CLI: exec and env
// clear it for the servers it concerns (not for the others, not when
// alilogin sets it, not when the server's CA file makes it moot, not on
// a system whose Go ignores it), and the token helper finds it for the
// CLIs that read it (empty too, where the CLI takes an empty value).
func TestRerouteVariables(t *testing.T) {
	for _, v := range reroutes {
		t.Run(v.name, func(t *testing.T) {
			env := []string{"PATH=/bin", v.name + "=http://elsewhere.example:8200"}
			empty := []string{v.name + "="}
			for _, s := range store.Kinds {
				concerns := slices.Contains(v.servers, s)
				if got := slices.Contains(Clear([]store.Kind{s}, none, env, "linux"), v.name); got != concerns {
					t.Errorf("Clear for %s: has %s %v, want %v", s, v.name, got, concerns)
				}
				withCA := func(n string) bool { return n == For(s).CACert }
				if got, want := slices.Contains(Clear([]store.Kind{s}, withCA, env, "linux"), v.name), concerns && !v.unlessCA; got != want {
					t.Errorf("Clear for %s with %s set: has %s %v, want %v", s, For(s).CACert, v.name, got, want)
				}
				setsIt := func(n string) bool { return n == v.name }
				if slices.Contains(Clear([]store.Kind{s}, setsIt, env, "linux"), v.name) {
					t.Errorf("Clear for %s removes %s, which alilogin sets itself", s, v.name)
				}
				if got, want := slices.Contains(Clear([]store.Kind{s}, none, env, "darwin"), v.name), concerns && !v.goRoots; got != want {
					t.Errorf("Clear for %s on darwin: has %s %v, want %v", s, v.name, got, want)
				}
				for _, cli := range []CLI{VaultCLI, BaoCLI, NomadCLI, ConsulCLI, ""} {
					reads := concerns && (cli == "" || slices.Contains(v.clis, cli))
					if got := found(Reroutes(cli, s, env, "linux"), v.name); got != reads {
						t.Errorf("Reroutes(%q, %s): finds %s %v, want %v", cli, s, v.name, got, reads)
					}
					if got := found(Reroutes(cli, s, empty, "linux"), v.name); got != (reads && v.emptyCount) {
						t.Errorf("Reroutes(%q, %s) of an empty %s: found %v, want %v", cli, s, v.name, got, reads && v.emptyCount)
					}
					ca := append([]string{For(s).CACert + "=/etc/ca.pem"}, env...)
					if got := found(Reroutes(cli, s, ca, "linux"), v.name); got != (reads && !v.unlessCA) {
						t.Errorf("Reroutes(%q, %s) with %s: finds %s %v, want %v", cli, s, For(s).CACert, v.name, got, reads && !v.unlessCA)
					}
				}
			}
		})
	}
}

func found(l []Found, name string) bool {
	for _, f := range l {
		if f.Name == name {
			return true
		}
	}
	return false
}

// TestRulesAreAllTested: every Reroute rule of the table is in the list
// above, so that a rule added without a test fails.
func TestRulesAreAllTested(t *testing.T) {
	for _, r := range Rules {
		if r.Class != Reroute {
			continue
		}
		ok := false
		for _, v := range reroutes {
			ok = ok || r.Matches(v.name)
		}
		if !ok {
			t.Errorf("rule %s has no line in the test's table", r.Name)
		}
	}
}

// TestProxyVariables: the generic proxy variables are never cleared,
// whatever is exported; ProxyFor finds the one that applies to a
// scheme, upper or lower case, and none for NO_PROXY.
func TestProxyVariables(t *testing.T) {
	for _, c := range []struct {
		name    string
		schemes []string
	}{
		{"HTTP_PROXY", []string{"http"}}, {"http_proxy", []string{"http"}},
		{"HTTPS_PROXY", []string{"https"}}, {"https_proxy", []string{"https"}},
		{"ALL_PROXY", []string{"http", "https"}}, {"all_proxy", []string{"http", "https"}},
		{"NO_PROXY", nil}, {"no_proxy", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := []string{c.name + "=http://proxy.example:3128"}
			if slices.Contains(Clear(store.Kinds, none, env, "linux"), c.name) {
				t.Errorf("Clear removes %s", c.name)
			}
			if !slices.Contains(ProxyNames(), c.name) {
				t.Errorf("ProxyNames has no %s", c.name)
			}
			for _, scheme := range []string{"http", "https", "HTTP"} {
				want := ""
				if slices.Contains(c.schemes, strings.ToLower(scheme)) {
					want = c.name
				}
				if got := ProxyFor(scheme, env); got != want {
					t.Errorf("ProxyFor(%s) = %q, want %q", scheme, got, want)
				}
			}
			if got := ProxyFor("http", []string{c.name + "="}); got != "" {
				t.Errorf("ProxyFor of an empty %s = %q", c.name, got)
			}
		})
	}
}

// TestClearBaoFromEnvironment: the BAO_ prefix clears what the
// environment holds, each name once, and nothing when the Vault token is
// not exported.
func TestClearBaoFromEnvironment(t *testing.T) {
	env := []string{"BAO_ADDR=http://x", "BAO_ADDR=http://y", "BAO_TOKEN=", "BAOBAB=tree", "VAULT_ADDR=http://v"}
	got := Clear([]store.Kind{store.Vault}, none, env, "linux")
	if !slices.Contains(got, "BAO_ADDR") || !slices.Contains(got, "BAO_TOKEN") || slices.Contains(got, "BAOBAB") || slices.Contains(got, "VAULT_ADDR") {
		t.Errorf("Clear = %q", got)
	}
	n := 0
	for _, g := range got {
		if g == "BAO_ADDR" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("BAO_ADDR listed %d times", n)
	}
	if got := Clear([]store.Kind{store.Nomad, store.Consul}, none, env, "linux"); slices.ContainsFunc(got, func(n string) bool { return n == "BAO_ADDR" || n == "VAULT_AGENT_ADDR" }) {
		t.Errorf("Clear without the Vault token = %q", got)
	}
}

// TestReroutesFirstEntryCounts: with a name listed twice, the first
// entry decides, as it does for the Go CLIs.
func TestReroutesFirstEntryCounts(t *testing.T) {
	if l := Reroutes(VaultCLI, store.Vault, []string{"VAULT_AGENT_ADDR=http://evil", "VAULT_AGENT_ADDR="}, "linux"); !found(l, "VAULT_AGENT_ADDR") {
		t.Errorf("the first, set VAULT_AGENT_ADDR is not found: %v", l)
	}
	if l := Reroutes(VaultCLI, store.Vault, []string{"VAULT_AGENT_ADDR=", "VAULT_AGENT_ADDR=http://evil"}, "linux"); found(l, "VAULT_AGENT_ADDR") {
		t.Errorf("the first, empty VAULT_AGENT_ADDR is found: %v", l)
	}
}

func TestNoProxy(t *testing.T) {
	for _, c := range []struct {
		name        string
		env         []string
		hosts       []string
		upper, lowr string
	}{
		{"none set", nil, []string{"vault.example", "nomad.example"}, "vault.example,nomad.example", "vault.example,nomad.example"},
		{"both kept", []string{"NO_PROXY=.cern.ch", "no_proxy=localhost"}, []string{"vault.example"}, ".cern.ch,vault.example", "localhost,vault.example"},
		{"upper only", []string{"NO_PROXY=a.example"}, []string{"vault.example"}, "a.example,vault.example", "a.example,vault.example"},
		{"lower only", []string{"no_proxy=a.example"}, []string{"vault.example"}, "a.example,vault.example", "a.example,vault.example"},
		{"listed already, any case", []string{"NO_PROXY=Vault.Example, x"}, []string{"vault.example"}, "Vault.Example, x", "Vault.Example, x"},
		{"each host once, IPv6 bare", nil, []string{"VAULT.example", "vault.example", "[::1]", ""}, "vault.example,::1", "vault.example,::1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := []Setting{{"NO_PROXY", c.upper}, {"no_proxy", c.lowr}}
			if d := cmp.Diff(want, NoProxy(c.env, c.hosts)); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
		})
	}
}

func TestStripDebug(t *testing.T) {
	for _, c := range []struct {
		in, want string
		changed  bool
	}{
		{"", "", false},
		{"gctrace=1", "gctrace=1", false},
		{"http2debug=2", "", true},
		{"http2debug=1", "", true},
		{"gctrace=1,http2debug=2,x509sha1=1", "gctrace=1,x509sha1=1", true},
		{"http2debug=1,http2client=0", "http2client=0", true},
		{"xhttp2debug=2", "", true}, // Go matches anywhere in the value
	} {
		got, changed := StripDebug(c.in)
		if got != c.want || changed != c.changed {
			t.Errorf("StripDebug(%q) = %q, %v; want %q, %v", c.in, got, changed, c.want, c.changed)
		}
	}
}

// TestTokenAndStaleVars: the hook's token variables and exec's stale
// ones come from the exports.
func TestTokenAndStaleVars(t *testing.T) {
	if d := cmp.Diff([]string{"VAULT_TOKEN", "NOMAD_TOKEN", "CONSUL_HTTP_TOKEN", "ALILOGIN_TOKEN_EXPIRY"}, TokenVars()); d != "" {
		t.Errorf("TokenVars (-want +got)\n%s", d)
	}
	if d := cmp.Diff([]string{"VAULT_TOKEN", "NOMAD_TOKEN", "CONSUL_HTTP_TOKEN", "ALILOGIN_TOKEN_EXPIRY", "CONSUL_TOKEN"}, StaleVars()); d != "" {
		t.Errorf("StaleVars (-want +got)\n%s", d)
	}
	if d := cmp.Diff([]string{"VAULT_ADDR", "NOMAD_ADDR", "CONSUL_HTTP_ADDR"}, AddrVars()); d != "" {
		t.Errorf("AddrVars (-want +got)\n%s", d)
	}
}

// TestWindowsNamesAnyCase: on Windows, Lookup, Reroutes and Clear take a
// variable's name in any case, as the CLIs read it there; elsewhere the
// names are exact.
func TestWindowsNamesAnyCase(t *testing.T) {
	env := []string{"VAULT_ADDR=https://vault.example:8200", "Vault_Agent_Addr=http://evil.example:8200", "bao_token=", "ssl_cert_file=/tmp/evil.pem"}
	if v, ok := LookupOn(env, "VAULT_AGENT_ADDR", "windows"); !ok || v != "http://evil.example:8200" {
		t.Errorf("LookupOn windows: %q %v", v, ok)
	}
	if _, ok := LookupOn(env, "VAULT_AGENT_ADDR", "linux"); ok {
		t.Errorf("LookupOn linux found Vault_Agent_Addr")
	}
	var got []string
	for _, f := range Reroutes(BaoCLI, store.Vault, env, "windows") {
		got = append(got, f.Name)
	}
	if strings.Join(got, ",") != "Vault_Agent_Addr,bao_token" {
		t.Errorf("Reroutes windows: %q", got)
	}
	if l := Reroutes(BaoCLI, store.Vault, env, "linux"); len(l) != 0 {
		t.Errorf("Reroutes linux: %v", l)
	}
	cl := Clear([]store.Kind{store.Vault}, func(string) bool { return false }, env, "windows")
	for _, n := range []string{"VAULT_AGENT_ADDR", "Vault_Agent_Addr", "bao_token"} {
		if !slices.Contains(cl, n) {
			t.Errorf("Clear windows lacks %s: %q", n, cl)
		}
	}
	if cl := Clear([]store.Kind{store.Vault}, func(string) bool { return false }, env, "linux"); slices.Contains(cl, "Vault_Agent_Addr") || slices.Contains(cl, "bao_token") {
		t.Errorf("Clear linux: %q", cl)
	}
}
