package envcontract

import (
	"runtime"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/alisw/alilogin/internal/store"
)

// CLI is a command-line client of a server.
type CLI string

// The CLIs of the contract.
const (
	VaultCLI  CLI = "vault"
	BaoCLI    CLI = "bao" // OpenBao's CLI, a client of a Vault too
	NomadCLI  CLI = "nomad"
	ConsulCLI CLI = "consul"
)

// Exports are the variables alilogin sets for one server: its token, its
// address and the TLS settings in force.
type Exports struct {
	Token, Addr                                  string
	CACert, ClientCert, ClientKey, TLSServerName string
	// HTTPS switches the CLI to https whatever the address's scheme
	// ("" for a server without one).
	HTTPS string
	// CLIs are the command-line clients that read them (the bao CLI
	// reads VAULT_X when BAO_X is not set).
	CLIs []CLI
}

var exports = map[store.Kind]Exports{
	store.Vault: {Token: "VAULT_TOKEN", Addr: "VAULT_ADDR", CACert: "VAULT_CACERT", ClientCert: "VAULT_CLIENT_CERT",
		ClientKey: "VAULT_CLIENT_KEY", TLSServerName: "VAULT_TLS_SERVER_NAME", CLIs: []CLI{VaultCLI, BaoCLI}},
	store.Nomad: {Token: "NOMAD_TOKEN", Addr: "NOMAD_ADDR", CACert: "NOMAD_CACERT", ClientCert: "NOMAD_CLIENT_CERT",
		ClientKey: "NOMAD_CLIENT_KEY", TLSServerName: "NOMAD_TLS_SERVER_NAME", CLIs: []CLI{NomadCLI}},
	store.Consul: {Token: "CONSUL_HTTP_TOKEN", Addr: "CONSUL_HTTP_ADDR", CACert: "CONSUL_CACERT", ClientCert: "CONSUL_CLIENT_CERT",
		ClientKey: "CONSUL_CLIENT_KEY", TLSServerName: "CONSUL_TLS_SERVER_NAME", HTTPS: "CONSUL_HTTP_SSL", CLIs: []CLI{ConsulCLI}},
}

// For is what alilogin sets for server s.
func For(s store.Kind) Exports { return exports[s] }

// ProfileVar and ExpiryVar are set with the tokens: the profile they are
// for and the earliest expiry (RFC 3339) of those exported.
const (
	ProfileVar = "ALILOGIN_PROFILE"
	ExpiryVar  = "ALILOGIN_TOKEN_EXPIRY"
)

// TokenVars are the variables that carry a token or describe one: every
// server's token variable and ExpiryVar. The hook unsets those a
// refresh no longer sets.
func TokenVars() []string {
	var l []string
	for _, s := range store.Kinds {
		l = append(l, exports[s].Token)
	}
	return append(l, ExpiryVar)
}

// AddrVars are the servers' address variables, in the order of
// store.Kinds: the hook refreshes when one changes.
func AddrVars() []string {
	var l []string
	for _, s := range store.Kinds {
		l = append(l, exports[s].Addr)
	}
	return l
}

// StaleVars are removed from exec's child before alilogin's own are set,
// whatever it exports: a token left from elsewhere must not win over, or
// mix with, the profile's. TokenVars, and CONSUL_TOKEN (consul-template
// and envconsul read it).
func StaleVars() []string {
	return append(TokenVars(), "CONSUL_TOKEN")
}

// Class is what alilogin does with a variable of Rules.
type Class int

const (
	// Reroute: the variable takes a token elsewhere than the server's
	// address, sends another token, or checks the server more weakly
	// than alilogin did. exec removes it, env and the hook unset it, the
	// token helper refuses a client that has it; unless alilogin sets it
	// itself.
	Reroute Class = iota + 1
	// Proxy: a generic proxy setting that other programs (git, curl)
	// need. Never unset; exec's child gets the servers added to
	// NO_PROXY, and the token helper refuses a proxy that would carry
	// the token.
	Proxy
)

// Rule is one variable (or, with Prefix, every variable whose name
// starts with Name) and what it does to the CLIs that read it.
type Rule struct {
	Name    string
	Prefix  bool
	Class   Class
	Servers []store.Kind // whose tokens or checks it concerns
	CLIs    []CLI        // the CLIs that read it
	// EmptyCounts: the CLIs act on the variable as soon as it is
	// present, even empty (the bao CLI takes an empty BAO_X over VAULT_X).
	// Otherwise an empty value is as good as unset, as os.Getenv reads it.
	EmptyCounts bool
	// UnlessCA: the CLIs read it for the server's trust roots only when
	// the server's CA file (Exports.CACert) is not set; with that set it
	// changes nothing, and is left alone.
	UnlessCA bool
	// NotOn are the GOOS values where the CLIs ignore it (Go reads
	// SSL_CERT_FILE and SSL_CERT_DIR on Linux and the BSDs, not on macOS
	// or Windows, which verify through the system).
	NotOn []string
	// Schemes are, for a Proxy rule, the URL schemes whose requests it
	// sends through a proxy (none for NO_PROXY).
	Schemes []string
	// Why completes "it would ...", for messages and docs.
	Why string
}

var (
	vaultCLIs = []CLI{VaultCLI, BaoCLI}
	allCLIs   = []CLI{VaultCLI, BaoCLI, NomadCLI, ConsulCLI}
	// notGoRoots are where Go's crypto/x509 reads no SSL_CERT_* variable.
	notGoRoots = []string{"darwin", "ios", "windows", "plan9"}
)

// Rules is the table, in the order messages and docs list it.
var Rules = []Rule{
	// Vault: vault api v1.9 Config.ReadEnvironment (the vault 1.13 CLI);
	// the bao CLI reads each VAULT_X when BAO_X is absent.
	{Name: "VAULT_AGENT_ADDR", Class: Reroute, Servers: []store.Kind{store.Vault}, CLIs: vaultCLIs,
		Why: "send the token to that agent instead of VAULT_ADDR"},
	{Name: "VAULT_PROXY_ADDR", Class: Reroute, Servers: []store.Kind{store.Vault}, CLIs: vaultCLIs,
		Why: "send the token through that proxy"},
	{Name: "VAULT_HTTP_PROXY", Class: Reroute, Servers: []store.Kind{store.Vault}, CLIs: vaultCLIs,
		Why: "send the token through that proxy"},
	{Name: "VAULT_SRV_LOOKUP", Class: Reroute, Servers: []store.Kind{store.Vault}, CLIs: vaultCLIs,
		Why: "send the token to whatever host the DNS SRV records of VAULT_ADDR's host name"},
	{Name: "VAULT_SKIP_VERIFY", Class: Reroute, Servers: []store.Kind{store.Vault}, CLIs: vaultCLIs,
		Why: "send the token without checking the Vault's certificate"},
	{Name: "VAULT_CACERT_BYTES", Class: Reroute, Servers: []store.Kind{store.Vault}, CLIs: vaultCLIs,
		Why: "check the Vault's certificate against the CA it holds, ahead of VAULT_CACERT"},
	{Name: "VAULT_CAPATH", Class: Reroute, Servers: []store.Kind{store.Vault}, CLIs: vaultCLIs, UnlessCA: true,
		Why: "check the Vault's certificate against the CAs of that directory instead of the ones alilogin used"},
	// OpenBao: api.ReadBaoVariable takes BAO_X, even empty, before VAULT_X
	// (BAO_ADDR, BAO_TOKEN, BAO_AGENT_ADDR, BAO_PROXY_ADDR, BAO_SKIP_VERIFY,
	// BAO_CACERT_BYTES, BAO_CLIENT_CERT_BYTES, BAO_TOKEN_PATH...).
	{Name: "BAO_", Prefix: true, Class: Reroute, Servers: []store.Kind{store.Vault}, CLIs: []CLI{BaoCLI}, EmptyCounts: true,
		Why: "be read by the bao CLI instead of the VAULT_ variable alilogin sets"},
	// Nomad: nomad api DefaultConfig (1.6).
	{Name: "NOMAD_SKIP_VERIFY", Class: Reroute, Servers: []store.Kind{store.Nomad}, CLIs: []CLI{NomadCLI},
		Why: "send the token without checking Nomad's certificate"},
	{Name: "NOMAD_CAPATH", Class: Reroute, Servers: []store.Kind{store.Nomad}, CLIs: []CLI{NomadCLI}, UnlessCA: true,
		Why: "check Nomad's certificate against the CAs of that directory instead of the ones alilogin used"},
	// Consul: consul api DefaultConfig (1.16) and `consul connect envoy`.
	{Name: "CONSUL_HTTP_TOKEN_FILE", Class: Reroute, Servers: []store.Kind{store.Consul}, CLIs: []CLI{ConsulCLI},
		Why: "send the token that file holds instead of CONSUL_HTTP_TOKEN"},
	{Name: "CONSUL_HTTP_SSL_VERIFY", Class: Reroute, Servers: []store.Kind{store.Consul}, CLIs: []CLI{ConsulCLI},
		Why: "send the token without checking Consul's certificate (false)"},
	{Name: "CONSUL_CAPATH", Class: Reroute, Servers: []store.Kind{store.Consul}, CLIs: []CLI{ConsulCLI}, UnlessCA: true,
		Why: "check Consul's certificate against the CAs of that directory instead of the ones alilogin used"},
	{Name: "CONSUL_GRPC_ADDR", Class: Reroute, Servers: []store.Kind{store.Consul}, CLIs: []CLI{ConsulCLI},
		Why: "have `consul connect envoy` hand the token to that gRPC server"},
	{Name: "CONSUL_GRPC_CACERT", Class: Reroute, Servers: []store.Kind{store.Consul}, CLIs: []CLI{ConsulCLI},
		Why: "check Consul's gRPC certificate against that CA instead of CONSUL_CACERT"},
	{Name: "CONSUL_GRPC_CAPATH", Class: Reroute, Servers: []store.Kind{store.Consul}, CLIs: []CLI{ConsulCLI},
		Why: "check Consul's gRPC certificate against the CAs of that directory instead of CONSUL_CACERT"},
	// Go's crypto/x509 (root_unix.go): the system's trust roots, for a
	// server without a CA file.
	{Name: "SSL_CERT_FILE", Class: Reroute, Servers: store.Kinds, CLIs: allCLIs, UnlessCA: true, NotOn: notGoRoots,
		Why: "check the server's certificate against the CAs of that file instead of the system's"},
	{Name: "SSL_CERT_DIR", Class: Reroute, Servers: store.Kinds, CLIs: allCLIs, UnlessCA: true, NotOn: notGoRoots,
		Why: "check the server's certificate against the CAs of those directories instead of the system's"},

	// Generic proxies: Go's net/http reads HTTP_PROXY, HTTPS_PROXY and
	// NO_PROXY (upper case first); curl also ALL_PROXY, so does the rule.
	{Name: "HTTP_PROXY", Class: Proxy, Servers: store.Kinds, CLIs: allCLIs, Schemes: []string{"http"},
		Why: "send the token through that proxy"},
	{Name: "http_proxy", Class: Proxy, Servers: store.Kinds, CLIs: allCLIs, Schemes: []string{"http"},
		Why: "send the token through that proxy"},
	{Name: "HTTPS_PROXY", Class: Proxy, Servers: store.Kinds, CLIs: allCLIs, Schemes: []string{"https"},
		Why: "send the token through that proxy"},
	{Name: "https_proxy", Class: Proxy, Servers: store.Kinds, CLIs: allCLIs, Schemes: []string{"https"},
		Why: "send the token through that proxy"},
	{Name: "ALL_PROXY", Class: Proxy, Servers: store.Kinds, CLIs: allCLIs, Schemes: []string{"http", "https"},
		Why: "send the token through that proxy"},
	{Name: "all_proxy", Class: Proxy, Servers: store.Kinds, CLIs: allCLIs, Schemes: []string{"http", "https"},
		Why: "send the token through that proxy"},
	{Name: "NO_PROXY", Class: Proxy, Servers: store.Kinds, CLIs: allCLIs,
		Why: "say which hosts are reached without a proxy"},
	{Name: "no_proxy", Class: Proxy, Servers: store.Kinds, CLIs: allCLIs,
		Why: "say which hosts are reached without a proxy"},
}

// Matches reports whether r names the variable name.
func (r Rule) Matches(name string) bool { return r.MatchesOn(name, runtime.GOOS) }

// MatchesOn is Matches on goos: on Windows, where a variable's name is
// case-insensitive (GetEnvironmentVariableW, so os.Getenv in the CLIs),
// any case counts.
func (r Rule) MatchesOn(name, goos string) bool {
	if r.Prefix {
		if goos != "windows" {
			return strings.HasPrefix(name, r.Name)
		}
		// As many characters of name as the prefix has (case mappings
		// map a character to one character, not always of the same
		// number of bytes).
		n := utf8.RuneCountInString(r.Name)
		for i := range name {
			if n == 0 {
				return SameName(name[:i], r.Name, goos)
			}
			n--
		}
		return n == 0 && SameName(name, r.Name, goos)
	}
	return SameName(name, r.Name, goos)
}

// SameName reports whether a and b name the same variable on goos:
// elsewhere than on Windows the same bytes. On Windows names are
// case-insensitive, compared by upper-casing (RtlUpcaseUnicodeChar's
// table, which maps the dotless ı U+0131 to I: VAULT_SKıP_VERIFY is
// VAULT_SKIP_VERIFY there); they are the same if their strings.ToUpper
// are, or if they are equal under simple case folding (strings.EqualFold,
// which does not fold ı to I but does the Kelvin sign to k): the union
// of the two, so that a name that may be read as a contract variable is
// treated as one. Every comparison of names in the contract (rules,
// Lookup, Apply, Reroutes) goes through it.
func SameName(a, b, goos string) bool {
	if goos == "windows" {
		return strings.EqualFold(a, b) || strings.ToUpper(a) == strings.ToUpper(b)
	}
	return a == b
}

// counts reports whether a variable of r with this value is in force.
func (r Rule) counts(value string) bool { return r.EmptyCounts || value != "" }

func (r Rule) honoured(goos string) bool { return !slices.Contains(r.NotOn, goos) }

func (r Rule) concerns(s store.Kind) bool { return slices.Contains(r.Servers, s) }

// Lookup is name's value in environ (NAME=value entries) and whether it
// is there. With name listed twice the first entry counts, as it does
// for Go programs (syscall.Getenv) and for getenv(3) in glibc.
func Lookup(environ []string, name string) (string, bool) {
	return LookupOn(environ, name, runtime.GOOS)
}

// LookupOn is Lookup on goos (SameName: any case on Windows).
func LookupOn(environ []string, name, goos string) (string, bool) {
	for _, kv := range environ {
		if n, v, ok := strings.Cut(kv, "="); ok && SameName(n, name, goos) {
			return v, true
		}
	}
	return "", false
}

// Clear lists the variables a program that gets the tokens of servers
// must not have: every Reroute variable of those servers, by name, that
// the CLIs honour on goos (one of UnlessCA only when one of the servers
// goes without its CA file), and every variable of environ that a
// prefix rule names. Those for which set (what alilogin sets itself)
// is true are left out. exec removes them from its child; env and the
// hook unset them. On Windows names are compared in any case, and every
// spelling of environ is listed. A name of environ that is not a shell
// identifier ("BAO_X-Y") is not listed: no CLI reads it, and no shell can
// unset it; on Windows one whose upper case is (VAULT_SKıP_VERIFY, read
// there as VAULT_SKIP_VERIFY) is listed: PowerShell can unset it.
func Clear(servers []store.Kind, set func(name string) bool, environ []string, goos string) []string {
	var out []string
	add := func(n string) {
		if !set(n) && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	for _, r := range Rules {
		if r.Class != Reroute || !r.honoured(goos) {
			continue
		}
		relevant := false
		for _, s := range servers {
			if r.concerns(s) && (!r.UnlessCA || !set(exports[s].CACert)) {
				relevant = true
			}
		}
		if !relevant {
			continue
		}
		if !r.Prefix {
			add(r.Name)
		}
		// Every spelling environ has of it (on Windows: any case; a
		// variant of a name alilogin sets is left to that setting).
		for _, kv := range environ {
			if n, _, _ := strings.Cut(kv, "="); r.MatchesOn(n, goos) && (r.Prefix || !set(r.Name)) && (identifier(n) || goos == "windows" && identifier(strings.ToUpper(n))) {
				add(n)
			}
		}
	}
	return out
}

// identifier reports whether n is a shell identifier ([A-Za-z_][A-Za-z0-9_]*):
// an inherited entry such as "BAO_X-Y=1" is no variable a shell can unset,
// and no CLI reads it (their names are identifiers), so Clear leaves it.
func identifier(n string) bool {
	for i, c := range n {
		if c != '_' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return n != ""
}

// Found is a variable of a client's environment that a rule names.
type Found struct {
	Name string
	Rule Rule
}

// Reroutes lists the variables of environ (a client's environment) that
// would take the token of server s elsewhere, or check s more weakly,
// when cli reads them: the Reroute rules of s for cli ("" for a client
// that is none of the CLIs: every CLI's rules), those in force (set and,
// unless the rule says an empty value counts, not empty; one of UnlessCA
// only while the client has no CA file for s) and honoured on goos.
func Reroutes(cli CLI, s store.Kind, environ []string, goos string) []Found {
	var out []Found
	var seen []string
	for _, r := range Rules {
		if r.Class != Reroute || !r.concerns(s) || !r.honoured(goos) || cli != "" && !slices.Contains(r.CLIs, cli) {
			continue
		}
		if ca, _ := LookupOn(environ, exports[s].CACert, goos); r.UnlessCA && ca != "" {
			continue
		}
		for _, kv := range environ {
			n, v, _ := strings.Cut(kv, "=")
			if !r.MatchesOn(n, goos) || slices.ContainsFunc(seen, func(s string) bool { return SameName(s, n, goos) }) {
				continue
			}
			seen = append(seen, n) // the first entry is the one in force
			if r.counts(v) {
				out = append(out, Found{Name: n, Rule: r})
			}
		}
	}
	return out
}

// ProxyFor is the first proxy variable of environ, in the table's order,
// that sends requests of scheme (http or https) through a proxy: a
// client sends them there unless the host is exempt (loopback, NO_PROXY).
// "" when none.
func ProxyFor(scheme string, environ []string) string {
	scheme = strings.ToLower(scheme)
	for _, r := range Rules {
		if r.Class != Proxy || !slices.Contains(r.Schemes, scheme) {
			continue
		}
		if v, _ := Lookup(environ, r.Name); v != "" {
			return r.Name
		}
	}
	return ""
}

// ProxyNames are the names of the Proxy rules: the variables that are
// never unset.
func ProxyNames() []string {
	var l []string
	for _, r := range Rules {
		if r.Class == Proxy {
			l = append(l, r.Name)
		}
	}
	return l
}

// Setting is a variable and the value it gets.
type Setting struct {
	Name, Value string
}

// NoProxy is NO_PROXY and no_proxy for a child of environ that must
// reach hosts without a proxy: each keeps its value (or, when it has
// none, takes the other's: Go reads NO_PROXY first, curl no_proxy) with
// the hosts it does not list yet added, comma-separated. Hosts are
// written bare (no port, no brackets), as Go and curl both read them.
func NoProxy(environ []string, hosts []string) []Setting {
	upper, _ := Lookup(environ, "NO_PROXY")
	lower, _ := Lookup(environ, "no_proxy")
	if upper == "" {
		upper = lower
	}
	if lower == "" {
		lower = upper
	}
	with := func(list string) string {
		have := map[string]bool{}
		for _, h := range strings.Split(list, ",") {
			have[strings.ToLower(strings.TrimSpace(h))] = true
		}
		for _, h := range hosts {
			h = strings.ToLower(strings.Trim(h, "[]"))
			if h == "" || have[h] {
				continue
			}
			have[h] = true
			if strings.TrimSpace(list) != "" {
				list += ","
			}
			list += h
		}
		return list
	}
	return []Setting{{Name: "NO_PROXY", Value: with(upper)}, {Name: "no_proxy", Value: with(lower)}}
}

// DebugVar is the Go runtime's debug setting.
const DebugVar = "GODEBUG"

// StripDebug returns godebug without the settings that make Go's HTTP/2
// code print request headers (http2debug=1: X-Vault-Token) and frames
// (http2debug=2: bodies), and whether it took anything out. Go looks for
// "http2debug=1" and "http2debug=2" anywhere in the value, so every
// comma-separated setting that mentions http2debug goes; the others stay
// in their order.
func StripDebug(godebug string) (string, bool) {
	if !strings.Contains(godebug, "http2debug") {
		return godebug, false
	}
	var keep []string
	for _, s := range strings.Split(godebug, ",") {
		if !strings.Contains(s, "http2debug") {
			keep = append(keep, s)
		}
	}
	return strings.Join(keep, ","), true
}

// ValidName reports whether n is a portable environment variable name
// (letters, digits, _; not starting with a digit), which every shell
// dialect can set (shellenv.Write checks every name it writes) and
// exec --secret accepts.
func ValidName(n string) bool {
	if n == "" {
		return false
	}
	for i, r := range n {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
