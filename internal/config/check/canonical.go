package check

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/alisw/alilogin/internal/safehttp"
)

// Normalize is addr as alilogin and the broker use it: scheme and host in
// lower case, the host without trailing dots; the port, path and
// anything else as written. Every address is normalised before it is
// checked (Address, Loopback) and used, so that the checks and Go's
// proxy rule, which exempts only a lower-case "localhost" and loopback
// IPs from HTTP_PROXY, see the same host: http://LOCALHOST:8200 and
// http://localhost.:8200 become http://localhost:8200, reached
// directly. An address that is not a URL with a host is returned as it
// is, for Address to refuse.
func Normalize(addr string) string {
	u, err := url.Parse(addr)
	if err != nil || u.Host == "" {
		return addr
	}
	host := strings.TrimRight(strings.ToLower(u.Hostname()), ".")
	if host == "" {
		return addr
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if p := u.Port(); p != "" {
		host += ":" + p
	}
	u.Scheme, u.Host = strings.ToLower(u.Scheme), host
	return u.String()
}

// Canonical is the form of a server address that a stored login records
// and that is compared with the configured one: Normalize's, with the
// port always written (443 for https, 80 for http), an IPv6 host in
// brackets, and the path without its trailing '/'. Two addresses with
// the same canonical form reach the same server the same way. An
// address Address would refuse for its form (no scheme, no host, a user
// name, a query) is an error; the plain-HTTP rule is not applied here.
func Canonical(addr string) (string, error) {
	u, err := url.Parse(Normalize(addr))
	if err != nil {
		return "", fmt.Errorf("%q is not a URL", addr)
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	switch {
	case scheme != "http" && scheme != "https":
		return "", fmt.Errorf("%q: want an http:// or https:// URL", addr)
	case host == "":
		return "", fmt.Errorf("%q has no host", addr)
	case u.User != nil:
		return "", fmt.Errorf("%q carries a user name or password", u.Redacted())
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", fmt.Errorf("%q has a query or a fragment", addr)
	}
	return safehttp.Origin(u) + strings.TrimRight(u.EscapedPath(), "/"), nil
}
