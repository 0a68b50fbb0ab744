package config

// Checking each layer before the overlay, while it is still known where a
// value came from: a mount path or an address that would send a request
// (and a token) somewhere else is an error naming the file and line, the
// environment variable or the discovery document that holds it. The rules
// themselves are in package check, shared with the broker's broker.hcl.

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/alisw/alilogin/internal/config/check"
	"github.com/alisw/alilogin/internal/discovery"
)

// InsecureHTTPEnv is the environment variable that opts in to plain HTTP.
const InsecureHTTPEnv = "ALILOGIN_INSECURE_HTTP"

// where names, for messages, the place that holds a setting ("vault mount").
type where func(setting string) string

func (p positions) where(path string) where {
	return func(setting string) string {
		if r, ok := p[setting]; ok {
			return fmt.Sprintf("%s:%d:%d: %s", r.Filename, r.Start.Line, r.Start.Column, setting)
		}
		return path + ": " + setting
	}
}

// envNames are the variables FromEnv reads each checked setting from.
var envNames = map[string]string{
	"issuer": "ALILOGIN_ISSUER", "broker": "ALILOGIN_BROKER",
	"vault address": "VAULT_ADDR", "vault mount": "ALILOGIN_JWT_MOUNT",
	"nomad address": "NOMAD_ADDR", "nomad mount": "ALILOGIN_NOMAD_MOUNT",
	"consul address": "CONSUL_HTTP_ADDR", "consul mount": "ALILOGIN_CONSUL_MOUNT",
	"pki mount": "ALILOGIN_PKI_MOUNT",
}

func envWhere(setting string) string { return envNames[setting] }

// discoveryNames are the document's fields FromDiscovery reads each from.
var discoveryNames = map[string]string{
	"issuer":        "sso.issuer",
	"vault address": "vault.addr", "vault mount": "vault.jwt_mount",
	"nomad address": "nomad.addr", "nomad mount": "vault.nomad_mount",
	"consul address": "consul.addr", "consul mount": "vault.consul_mount",
	"pki mount": "vault.pki_mount",
}

func discoveryWhere(broker string) where {
	return func(setting string) string {
		return fmt.Sprintf("the discovery document of %s: %s", broker, discoveryNames[setting])
	}
}

// flagNames are the command-line flags of the checked settings.
var flagNames = map[string]string{"issuer": "--issuer", "vault address": "--vault-addr", "broker": "--broker"}

func flagWhere(setting string) string {
	if n, ok := flagNames[setting]; ok {
		return n
	}
	return setting
}

func mounts(c *Config) map[string]string {
	return map[string]string{"vault mount": c.Vault.Mount, "nomad mount": c.Nomad.Mount, "consul mount": c.Consul.Mount, "pki mount": c.PKIMount}
}

func addresses(c *Config) map[string]string {
	return map[string]string{"issuer": c.Issuer, "broker": c.Broker,
		"vault address": c.Vault.Addr, "nomad address": c.Nomad.Addr, "consul address": c.Consul.Addr}
}

// checkMounts checks the layer's mount paths.
func checkMounts(c *Config, at where) error {
	var errs []error
	for _, setting := range []string{"vault mount", "nomad mount", "consul mount", "pki mount"} {
		if m := mounts(c)[setting]; m != "" {
			if err := check.Mount(m); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", at(setting), err))
			}
		}
	}
	return errors.Join(errs...)
}

// normalize normalises the layer's addresses (check.Normalize): scheme
// and host in lower case, no trailing dot; what is checked is what is
// used.
func normalize(c *Config) {
	for _, a := range []*string{&c.Issuer, &c.Broker, &c.Vault.Addr, &c.Nomad.Addr, &c.Consul.Addr} {
		if *a != "" {
			*a = check.Normalize(*a)
		}
	}
}

// checkLayer normalises the layer's addresses, then checks them and its
// mount paths.
func checkLayer(c *Config, at where, insecureHTTP bool) error {
	normalize(c)
	errs := []error{checkMounts(c, at)}
	for _, setting := range []string{"issuer", "broker", "vault address", "nomad address", "consul address"} {
		if a := addresses(c)[setting]; a != "" {
			errs = append(errs, checkAddress(at(setting), a, insecureHTTP))
		}
	}
	return errors.Join(errs...)
}

func checkAddress(at, addr string, insecureHTTP bool) error {
	if !strings.Contains(addr, "://") { // consul's HOST:PORT is a URL by now (check.ConsulAddress)
		return fmt.Errorf("%s: %q is not a URL: want https://%s (or http:// on loopback), as the vault and nomad CLIs do", at, addr, addr)
	}
	err := check.Address(addr, insecureHTTP)
	if errors.Is(err, check.ErrPlainHTTP) {
		return fmt.Errorf("%s: %w; to send tokens over it anyway, set insecure_http = true in the config file or %s=true", at, err, InsecureHTTPEnv)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", at, err)
	}
	return nil
}

// insecureFromEnv reads ALILOGIN_INSECURE_HTTP (empty: not set).
func insecureFromEnv(getenv func(string) string) (bool, error) {
	v := getenv(InsecureHTTPEnv)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s: want true or false, got %q", InsecureHTTPEnv, v)
	}
	return b, nil
}

// InsecureHTTP reports whether the user opted in to plain HTTP to hosts
// that are not loopback, in the environment or the config file.
func InsecureHTTP(getenv func(string) string) (bool, error) {
	env, err := insecureFromEnv(getenv)
	if err != nil || env {
		return env, err
	}
	path, err := Path(getenv)
	if err != nil {
		return false, err
	}
	file, err := LoadFile(path)
	return file.InsecureHTTP, err
}

// CheckBroker checks a broker URL given on the command line (normalised
// first by the caller: check.Normalize).
func CheckBroker(broker string, insecureHTTP bool) error {
	return checkAddress("--broker", broker, insecureHTTP)
}

// CheckDiscovery checks the mounts and addresses of the discovery document
// fetched from broker, as Resolve does for the discovery layer.
func CheckDiscovery(d *discovery.Document, broker string, insecureHTTP bool) error {
	c := FromDiscovery(d)
	return checkLayer(&c, discoveryWhere(broker), insecureHTTP)
}
