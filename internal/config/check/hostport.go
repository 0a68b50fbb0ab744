package check

import (
	"strconv"
	"strings"
)

// ConsulAddress is a Consul address as the consul CLI reads it
// (CONSUL_HTTP_ADDR, -http-addr, consul/api): HOST:PORT without a scheme
// is http://HOST:PORT, or https://HOST:PORT when tls is set
// (CONSUL_HTTP_SSL=true); with tls set, an http:// URL is https too (the
// CLI never reverts to http when TLS was asked for); any other address is
// returned as it is, for Address to judge. So `127.0.0.1:8500` is
// accepted wherever CONSUL_HTTP_ADDR is, and `consul.cern.ch:8500` is
// plain http to a host that is not loopback: refused by Address.
//
// The vault and nomad CLIs take URLs only (VAULT_ADDR and NOMAD_ADDR go
// through url.Parse, where HOST:PORT is no URL), and so do their settings
// here.
func ConsulAddress(addr string, tls bool) string {
	switch {
	case addr == "":
		return ""
	case !strings.Contains(addr, "://"):
		if tls {
			return "https://" + addr
		}
		return "http://" + addr
	case tls && strings.HasPrefix(strings.ToLower(addr), "http://"):
		return "https://" + addr[len("http://"):]
	}
	return addr
}

// ConsulTLS reads CONSUL_HTTP_SSL as the consul CLI does
// (strconv.ParseBool: true, 1, t, TRUE...); anything else is false.
func ConsulTLS(v string) bool {
	b, err := strconv.ParseBool(v)
	return err == nil && b
}
