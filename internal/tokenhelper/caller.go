package tokenhelper

import (
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"slices"
	"strings"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/config/check"
	"github.com/alisw/alilogin/internal/envcontract"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

// maxAncestors bounds the walk up from the helper to the vault CLI: the
// CLI runs the helper through `$SHELL -c`, the script execs alilogin,
// and a shell's startup file may add a level or two.
const maxAncestors = 6

// shells are the programs the walk passes to find the client: the vault
// CLI runs `$SHELL -c "<script> get"` and the script is a /bin/sh one.
var shells = map[string]bool{"sh": true, "dash": true, "bash": true, "zsh": true, "fish": true, "ksh": true, "mksh": true, "ksh93": true}

// ErrNoProcessView: this system does not show another process's command
// line and environment (only Linux's /proc is read).
var ErrNoProcessView = errors.New("this system does not show the vault CLI's command line and environment")

// Client is the process that runs the token helper (the vault CLI, or
// any program that uses its token helper, as terraform-provider-vault
// does): its program, its arguments (argv[0] left out) and environment.
type Client struct {
	PID int
	Exe string // the program's file
	// Program is the Go main package the program was built from
	// (runtime/debug.BuildInfo.Path), "" when it has no Go build
	// information.
	Program string
	Args    []string
	Env     []string
}

// Getenv is the client's value of k ("" when unset). With k listed
// twice, the first entry counts, as it does for the vault CLI (Go's
// syscall.Getenv) and for getenv(3) in glibc.
func (c *Client) Getenv(k string) string {
	v, _ := envcontract.Lookup(c.Env, k)
	return v
}

// FindClient is the first ancestor of this process that is not a shell
// (at most maxAncestors up; a process run as `PROGRAM -c STRING` counts
// as a shell whatever its name: the vault CLI runs the helper as
// `$SHELL -c`, and $SHELL may be tcsh, yash, busybox or any other), with
// its command line, environment and Go main package, whatever its name;
// whether it is served is Identify's to say. An error when it cannot be
// found or read; ErrNoProcessView off Linux.
func FindClient() (*Client, error) {
	return findClient()
}

// AddressFlags are the values of every address flag anywhere in a vault
// command line: -address, --address, -agent-address, --agent-address,
// the value after '=' or the next argument ("" for a flag that ends the
// line). It does not emulate the vault CLI's flag parser (which flags
// take values, where flags end): it lists every argument that could be
// one, so that a caller that refuses any foreign value fails closed.
func AddressFlags(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if name != "address" && name != "agent-address" {
			continue
		}
		if !hasVal {
			if i+1 < len(args) {
				val = args[i+1]
			}
		}
		out = append(out, val)
	}
	return out
}

// TLSFlags are the vault (and bao) CLI flags that change how the CLI
// checks the Vault's certificate: -tls-skip-verify, -tls-server-name,
// -ca-cert, -ca-path, in any spelling (one or two dashes, a value after
// '=' or none). A man in the middle at the Vault's address with a
// certificate those flags accept would get the token. The client
// certificate flags (-client-cert, -client-key) are not among them: they
// choose what the CLI shows the Vault, not which Vault it trusts.
var TLSFlags = []string{"tls-skip-verify", "tls-server-name", "ca-cert", "ca-path"}

// ServerCommands are the vault (and bao) CLI commands that run a
// long-lived process from a configuration file (agent, proxy, server):
// the file can turn the certificate check off (tls_skip_verify) or name
// another Vault, and the helper cannot read it.
var ServerCommands = []string{"agent", "proxy", "server"}

// flagName is a's flag name (without dashes and value), "" when a is
// no flag.
func flagName(a string) string {
	if !strings.HasPrefix(a, "-") || a == "-" || a == "--" {
		return ""
	}
	name, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
	return name
}

// ArgsRefusal says why a vault or bao command line must not get the
// token, "" when it may: a flag of TLSFlags anywhere on it, a -config
// flag anywhere, or a command of ServerCommands as its first argument
// that is no flag. Like AddressFlags it does not emulate the CLI's
// parser: any argument that could be such a flag counts (fail closed).
func ArgsRefusal(args []string) string {
	for _, a := range args {
		n := flagName(a)
		if slices.Contains(TLSFlags, n) {
			return fmt.Sprintf("its command line has %s, which changes how it checks the Vault's certificate", termtext.Clean(a))
		}
		if n == "config" {
			return fmt.Sprintf("its command line has %s, a configuration file that may change which Vault it talks to and how it checks it", termtext.Clean(a))
		}
	}
	for _, a := range args {
		if flagName(a) != "" {
			continue
		}
		if slices.Contains(ServerCommands, a) {
			return fmt.Sprintf("its command is %q, which takes its Vault and its certificate check from a configuration file", a)
		}
		break
	}
	return ""
}

// Refusal says why a client that is cli (envcontract.VaultCLI or
// BaoCLI; "" for another program, which gets every CLI's rules), with
// the environment env (NAME=value, the first entry of a name counting)
// and, when not nil, the command line args, must not get the token of
// the Vault at vault (canonical, as recorded at login); "" when it may.
// The rule, fail closed: EnvRefusal; ArgsRefusal; the client's VAULT_ADDR
// names that Vault (any spelling of case, port and trailing '/', but not
// a host with a trailing dot: see sameVault) and so does every address
// flag in args; and no
// HTTP proxy variable applies (one for the scheme, or ALL_PROXY) to an
// address as the client spells it, unless Go's proxy rule exempts that
// spelling (check.Loopback: lower-case localhost, a loopback IP; NO_PROXY
// is not considered).
func Refusal(cli envcontract.CLI, env, args []string, vault string) string {
	if why := EnvRefusal(cli, env); why != "" {
		return why
	}
	addr, _ := envcontract.Lookup(env, vaultAddr)
	if !sameVault(addr, vault) {
		return fmt.Sprintf("the %s command's VAULT_ADDR %s is not the Vault of the login (%s)", name(cli), termtext.Clean(addr), vault)
	}
	if why := ArgsRefusal(args); why != "" {
		return fmt.Sprintf("the %s command: %s", name(cli), why)
	}
	flags := AddressFlags(args)
	for _, f := range flags {
		if !sameVault(f, vault) {
			return fmt.Sprintf("the %s command line has an address flag %q that is not the Vault of the login (%s)", name(cli), termtext.Clean(f), vault)
		}
	}
	for _, a := range append([]string{addr}, flags...) {
		u, err := url.Parse(a)
		if err != nil || check.Loopback(u.Hostname()) {
			continue // an unparsable one was refused above
		}
		if p := envcontract.ProxyFor(u.Scheme, env); p != "" {
			return fmt.Sprintf("%s is set in the %s command's environment, so it would send the token through that proxy to %s", p, name(cli), termtext.Clean(a))
		}
	}
	return ""
}

// EnvRefusal is the part of Refusal that needs no login record: the
// client's VAULT_ADDR is set; none of the variables the environment
// contract says would send its token elsewhere or check the Vault more
// weakly is (envcontract.Reroutes for cli and the Vault); and its
// GODEBUG does not ask for Go's HTTP/2 debug log, which prints the
// X-Vault-Token header.
func EnvRefusal(cli envcontract.CLI, env []string) string {
	if addr, _ := envcontract.Lookup(env, vaultAddr); addr == "" {
		return fmt.Sprintf("VAULT_ADDR is not set in the %s command's environment, so it would send the token to its default address; set it (the hook and 'alilogin env' do)", name(cli))
	}
	if l := envcontract.Reroutes(cli, store.Vault, env, runtime.GOOS); len(l) > 0 {
		return fmt.Sprintf("%s is set in the %s command's environment, so it would %s", l[0].Name, name(cli), l[0].Rule.Why)
	}
	if d, _ := envcontract.Lookup(env, envcontract.DebugVar); strings.Contains(d, "http2debug") {
		return fmt.Sprintf("GODEBUG asks for http2debug in the %s command's environment, so it would print the token", name(cli))
	}
	return ""
}

// TrustRefusal says why a client that is cli, with the environment env,
// must not get the token of a login that checked the Vault's certificate
// as trust says (apiclient.Trust, recorded at login; "" for a login of
// an earlier alilogin, which is accepted): the client would check it
// another way, with another CA file (VAULT_CACERT's contents), another
// TLS server name (VAULT_TLS_SERVER_NAME), or, without a CA file, other
// SSL_CERT_FILE/SSL_CERT_DIR. A man in the middle at the Vault's address
// with a certificate of the attacker's CA, or of the right CA for a name
// the attacker holds, would get the token. A relative VAULT_CACERT is
// read from the helper's working directory, which is the client's.
func TrustRefusal(cli envcontract.CLI, env []string, trust string) string {
	if trust == "" {
		return ""
	}
	ex := envcontract.For(store.Vault)
	ca, _ := envcontract.Lookup(env, ex.CACert)
	sn, _ := envcontract.Lookup(env, ex.TLSServerName)
	got, err := apiclient.Trust(ca, sn, func(k string) string { v, _ := envcontract.Lookup(env, k); return v }, runtime.GOOS)
	if err != nil {
		return fmt.Sprintf("the %s command's TLS settings cannot be checked: %s", name(cli), termtext.Clean(err.Error()))
	}
	if got != trust {
		return fmt.Sprintf("the %s command would check the Vault's certificate with %s, not as the login did (%s)", name(cli), termtext.Clean(got), trust)
	}
	return ""
}

// vaultAddr is the variable that names the Vault (the bao CLI reads
// BAO_ADDR first, which Reroutes refuses).
var vaultAddr = envcontract.For(store.Vault).Addr

// name is how messages call the client.
func name(cli envcontract.CLI) string {
	if cli == "" {
		return "client"
	}
	return string(cli)
}

// sameVault reports whether the client's address addr names the Vault
// of the login (canonical). A host with a trailing dot never does: the
// client's resolver takes "localhost." or "vault.example." as a fully
// qualified name and may ask DNS for it where "localhost" comes from
// /etc/hosts (or a search domain completes "vault"), so it may reach
// another host. check.Normalize drops such a dot only for the addresses
// alilogin itself dials and exports.
func sameVault(addr, vault string) bool {
	if u, err := url.Parse(addr); err != nil || strings.HasSuffix(u.Hostname(), ".") {
		return false
	}
	c, err := check.Canonical(addr)
	return err == nil && c == vault
}
