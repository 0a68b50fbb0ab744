package guard

import (
	"bufio"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/store"
)

// wire parses a request line as the agent's http.Server does, so that
// URL.Path and URL.RawPath are what the proxy really gets.
func wire(t testing.TB, method, target string) *http.Request {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")))
	if err != nil {
		t.Fatalf("parse %s %s: %v", method, target, err)
	}
	return r
}

func TestPathTricksAreRefused(t *testing.T) {
	long := "/v1/kv/" + strings.Repeat("a", MaxPathLen)
	for _, target := range []string{
		"/v1/auth/token/../token/lookup-self", // Vault, Nomad, Consul: the mux redirects to the cleaned path
		"/v1/acl/x/../token/self",
		"/v1/acl/token/./self",
		"/v1/acl/token/..",
		"/v1//acl/token/self",
		"/v1/acl//token/self",
		"/v1/auth%2ftoken%2flookup-self", // Vault serves this as auth/token/lookup-self (measured: 200)
		"/v1/auth%2Ftoken%2Flookup-self",
		"/v1/job/a%2fallocations",
		"/v1/acl/token/%2e%2e/self",
		"/v1/acl/token/%2E/self",
		"/v1/acl/token%252fself", // double encoding
		"/v1/acl/token/%25",
		"/v1/auth\\token\\lookup-self",
		"/v1/auth%5ctoken",
		"/v1/kv/a%00b",
		"/v1/kv/a%0ab",
		"/v1/kv/a%7fb",
		"/v1/kv/a%e2%80%8bb", // U+200B zero width space: not printable (Vault refuses it too)
		"/v1/kv/a%ffb",       // not UTF-8
		"/ui/",
		"/v2/jobs",
		"/v1",
		"/v1/",
		"/V1/jobs",
		"/",
		"/v1/../v1/acl/token/self",
		long,
	} {
		r := wire(t, "GET", target)
		for _, s := range []store.Kind{store.Vault, store.Nomad, store.Consul} {
			d := Check(s, r, Rules{})
			if d.Refuse == "" || d.Reason != BadPath || d.Status() != http.StatusBadRequest {
				t.Errorf("%s GET %.60s: %+v, want a refused path (400)", s, target, d)
			}
			if strings.Contains(d.Refuse, "\x00") {
				t.Errorf("refusal with a NUL: %q", d.Refuse)
			}
		}
	}
}

func TestPathsBuiltByHandAreCheckedToo(t *testing.T) {
	// A URL the server's parser would not make (a proxy's own code could):
	// a RawPath that does not encode Path is ignored by EscapedPath, a
	// malformed escape and an opaque target are refused.
	for _, u := range []*url.URL{
		{Path: "/v1/acl/token/self", RawPath: "/v1/acl/token/%zz"},
		{Path: "/v1/a\x00b"},
		{Path: "/v1/a/../b"},
		{Opaque: "/v1/jobs"},
		{Path: "/v1/kv/%zz"},
	} {
		if p, err := canonicalPath(u); err == nil && p != "/v1/acl/token/self" {
			t.Errorf("%#v: %q allowed", u, p)
		}
	}
	if _, err := canonicalPath(nil); err == nil {
		t.Errorf("nil URL allowed")
	}
	if _, err := canonicalPath(&url.URL{RawPath: "/v1/kv/%zz", Path: "/v1/kv/x"}); err != nil {
		t.Errorf("an invalid RawPath is ignored by EscapedPath, as by the proxy: %v", err)
	}
}

func TestRealPathsAreKeptAsTheServerDecodesThem(t *testing.T) {
	for _, c := range []struct{ target, want string }{
		{"/v1/jobs?namespace=ci", "/v1/jobs"},
		{"/v1/kv/a%20b", "/v1/kv/a b"},
		{"/v1/kv/caf%C3%A9", "/v1/kv/café"},
		{"/v1/kv/a.b/c..d", "/v1/kv/a.b/c..d"},
		{"/v1/kv/prefix/", "/v1/kv/prefix/"},
		{"/v1/secret/metadata/", "/v1/secret/metadata/"},
		{"/v1/acl/token/%73elf", "/v1/acl/token/self"}, // Nomad and Consul serve token self (measured)
		{"/v1/auth/token/lookup%2dself", "/v1/auth/token/lookup-self"},
		{"/v1/kv/a%3Fb%23c", "/v1/kv/a?b#c"},
	} {
		r := wire(t, "GET", c.target)
		got, err := canonicalPath(r.URL)
		if err != nil || got != c.want {
			t.Errorf("%s: %q, %v; want %q", c.target, got, err, c.want)
		}
	}
}

func TestUnknownMethodsAreRefused(t *testing.T) {
	for _, c := range []struct {
		server store.Kind
		method string
	}{
		{store.Nomad, "LIST"}, {store.Consul, "PATCH"}, {store.Vault, "OPTIONS"}, {store.Nomad, "CONNECT"},
		{store.Consul, "TRACE"}, {store.Vault, "get"}, {store.Nomad, "PROPFIND"},
	} {
		d := Check(c.server, wire(t, c.method, "/v1/jobs"), Rules{})
		if d.Reason != BadPath {
			t.Errorf("%s %s: %+v, want refused", c.server, c.method, d)
		}
	}
	if d := Check(store.Vault, wire(t, "LIST", "/v1/secret/metadata/"), Rules{}); d.Refuse != "" {
		t.Errorf("Vault LIST refused: %s", d.Refuse)
	}
	if d := Check("boundary", wire(t, "GET", "/v1/x"), Rules{}); d.Refuse == "" {
		t.Errorf("unknown server allowed")
	}
	if d := Check(store.Vault, nil, Rules{}); d.Refuse == "" {
		t.Errorf("nil request allowed")
	}
}
