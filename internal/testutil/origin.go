package testutil

import (
	"net/url"
	"testing"

	"github.com/alisw/alilogin/internal/config/check"
)

// Origin is the scheme://host[:port] of the URL s; it fails t when s does
// not parse.
func Origin(t testing.TB, s string) string {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u.Scheme + "://" + u.Host
}

// Canonical is addr as the config stores a server's address
// (check.Canonical); it fails t when addr is not one.
func Canonical(t testing.TB, addr string) string {
	t.Helper()
	c, err := check.Canonical(addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
