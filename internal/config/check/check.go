package check

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// ErrPlainHTTP is returned for an http:// address of a host that is not
// loopback when the user has not opted in to plain HTTP.
var ErrPlainHTTP = errors.New("plain http:// to a host that is not loopback")

// reserved are Vault's own top-level paths; no auth method or secrets engine
// lives there, so a mount naming one can only be a mistake or an attack.
var reserved = []string{"sys", "auth", "identity", "cubbyhole"}

// Mount checks a Vault mount path (the JWT auth method's, or the nomad and
// consul secrets engines'), which is put into API paths as is: segments of
// 1 to 64 letters, digits, '_', '-' and '.', each starting with a letter or
// a digit (so no "." or ".." segment), separated by single '/', with at most
// one trailing '/', and not under one of Vault's own paths (sys, auth,
// identity, cubbyhole).
func Mount(m string) error {
	if m == "" {
		return errors.New("the mount path is empty")
	}
	if len(m) > 256 {
		return fmt.Errorf("the mount path is longer than 256 characters")
	}
	for i, seg := range strings.Split(strings.TrimSuffix(m, "/"), "/") {
		if err := segment(seg); err != nil {
			return fmt.Errorf("%q is not a valid Vault mount path: %w", m, err)
		}
		if i == 0 {
			for _, r := range reserved {
				if strings.EqualFold(seg, r) {
					return fmt.Errorf("%q is not a valid Vault mount path: %s/ is Vault's own", m, r)
				}
			}
		}
	}
	return nil
}

func segment(s string) error {
	switch {
	case s == "":
		return errors.New("empty segment")
	case s == "." || s == "..":
		return fmt.Errorf("segment %q", s)
	case len(s) > 64:
		return errors.New("a segment is longer than 64 characters")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if i == 0 && !alnum {
			return fmt.Errorf("segment %q must start with a letter or a digit", s)
		}
		if !alnum && c != '_' && c != '-' && c != '.' {
			return fmt.Errorf("segment %q has a character other than letters, digits, '_', '-' and '.'", s)
		}
	}
	return nil
}

// Address checks a server address (Vault, Nomad, Consul, the SSO issuer, the
// broker): an absolute http or https URL with a host, no user name or
// password, no query and no fragment. http:// is accepted for loopback
// hosts (Loopback: localhost, 127.0.0.0/8, ::1) only, unless insecureHTTP
// is set; otherwise the error wraps ErrPlainHTTP. The address is checked
// as written: Normalize it first, and use what was checked.
func Address(addr string, insecureHTTP bool) error {
	u, err := url.Parse(addr)
	if err != nil {
		return fmt.Errorf("%q is not a URL", addr)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q: want an https:// (or, on loopback, http://) URL", addr)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("%q has no host", addr)
	case u.User != nil:
		return fmt.Errorf("%q carries a user name or password; credentials never go in an address", u.Redacted())
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return fmt.Errorf("%q has a query or a fragment", addr)
	}
	if u.Scheme == "http" && !insecureHTTP && !Loopback(u.Hostname()) {
		return fmt.Errorf("%w: %q (tokens would cross the network unencrypted): use https://", ErrPlainHTTP, addr)
	}
	return nil
}

// Loopback reports whether host (a name or an IP address, without port
// or brackets) is this machine as Go's proxy rule sees it (net/http's
// ProxyFromEnvironment never sends a request for it through HTTP_PROXY):
// exactly "localhost", in lower case and without a trailing dot, or an
// IP address in 127.0.0.0/8 or ::1. Any other spelling (LOCALHOST,
// localhost.) is not loopback here, so that no check assumes away a
// proxy that Go would use: Normalize an address before its host is
// checked.
func Loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && net.IP(ip.AsSlice()).IsLoopback()
}
