package testutil

import (
	"net/url"
	"testing"
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
