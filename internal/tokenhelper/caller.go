package tokenhelper

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/alisw/alilogin/internal/config/check"
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
// does): its arguments (argv[0] left out) and environment.
type Client struct {
	PID  int
	Exe  string
	Args []string
	Env  []string
}

// Getenv is the client's value of k ("" when unset). With k listed
// twice, the first entry counts, as it does for the vault CLI (Go's
// syscall.Getenv) and for getenv(3) in glibc.
func (c *Client) Getenv(k string) string {
	for _, kv := range c.Env {
		if name, val, ok := strings.Cut(kv, "="); ok && name == k {
			return val
		}
	}
	return ""
}

// FindClient is the first ancestor of this process that is not a shell
// (at most maxAncestors up; a process run as `PROGRAM -c STRING` counts
// as a shell whatever its name: the vault CLI runs the helper as
// `$SHELL -c`, and $SHELL may be tcsh, yash, busybox or any other), with its command line and environment:
// whatever its name (vault, vault-1.13, terraform-provider-vault). An
// error when it cannot be found or read; ErrNoProcessView off Linux.
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

// proxyVars are the proxy settings the vault CLI's HTTP client (Go's
// http.ProxyFromEnvironment) reads, and ALL_PROXY for safety: any of
// them set makes a request to a non-loopback Vault go through a proxy.
var proxyVars = map[string][]string{
	"http":  {"HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"},
	"https": {"HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"},
}

// Refusal says why the client must not get the token of the Vault at
// vault (canonical, as recorded at login); "" when it may. The rule,
// fail closed: the client's VAULT_ADDR names that Vault (any spelling);
// none of VAULT_AGENT_ADDR, VAULT_PROXY_ADDR, VAULT_HTTP_PROXY,
// VAULT_SRV_LOOKUP is set; no HTTP proxy variable applies (one for the
// Vault's scheme, or ALL_PROXY, when the Vault is not loopback: NO_PROXY
// is not considered); and, when args is not nil, every address flag in
// it names that Vault.
func Refusal(getenv func(string) string, args []string, vault string) string {
	if why := EnvRefusal(getenv); why != "" {
		return why
	}
	if addr := getenv("VAULT_ADDR"); !sameVault(addr, vault) {
		return fmt.Sprintf("the vault command's VAULT_ADDR %s is not the Vault of the login (%s)", termtext.Clean(addr), vault)
	}
	if u, err := url.Parse(vault); err == nil && !loopback(u.Hostname()) {
		for _, k := range proxyVars[strings.ToLower(u.Scheme)] {
			if getenv(k) != "" {
				return k + " is set in the vault command's environment, so it would send the token through that proxy"
			}
		}
	}
	for _, f := range AddressFlags(args) {
		if !sameVault(f, vault) {
			return fmt.Sprintf("the vault command line has an address flag %q that is not the Vault of the login (%s)", termtext.Clean(f), vault)
		}
	}
	return ""
}

// EnvRefusal is the part of Refusal that needs no login record: the
// client's VAULT_ADDR is set and none of the variables that send its
// requests elsewhere is.
func EnvRefusal(getenv func(string) string) string {
	if getenv("VAULT_ADDR") == "" {
		return "VAULT_ADDR is not set in the vault command's environment, so it would send the token to its default address; set it (the hook and 'alilogin env' do)"
	}
	for _, k := range []string{"VAULT_AGENT_ADDR", "VAULT_PROXY_ADDR", "VAULT_HTTP_PROXY", "VAULT_SRV_LOOKUP"} {
		if getenv(k) != "" {
			return k + " is set in the vault command's environment, so it would send the token elsewhere than VAULT_ADDR"
		}
	}
	return ""
}

func sameVault(addr, vault string) bool {
	c, err := check.Canonical(addr)
	return err == nil && c == vault
}

// loopback: the hosts Go's proxy rules never send through a proxy.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
