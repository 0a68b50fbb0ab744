package guard

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/store"
)

// FuzzCheck: any request line the agent's server would accept gives a
// decision without a panic; an allowed path is canonical, and a refused
// secret route stays refused in any spelling the server would serve.
func FuzzCheck(f *testing.F) {
	for _, c := range secretCases {
		f.Add(c.method, c.target)
	}
	for _, s := range []string{"/v1/acl%2ftoken%2fself", "/v1/a/../b", "/v1//x", "/v1/kv/%C3%A9", "/v1/acl/token/%6fnetime"} {
		f.Add("GET", s)
	}
	f.Fuzz(func(t *testing.T, method, target string) {
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(method + " " + target + " HTTP/1.1\r\nHost: a\r\n\r\n")))
		if err != nil {
			return
		}
		for _, s := range []store.Kind{store.Vault, store.Nomad, store.Consul} {
			d := Check(s, r, Rules{ReadOnly: len(target)%2 == 0})
			if d.Refuse == "" {
				if d.Reason != Allowed || d.Status() != 0 {
					t.Fatalf("allowed with reason %v", d.Reason)
				}
				p := d.Path
				if !strings.HasPrefix(p, "/v1/") || strings.Contains(p, "//") || strings.Contains(p, "/../") ||
					strings.Contains(p, "/./") || strings.HasSuffix(p, "/..") || strings.HasSuffix(p, "/.") || strings.ContainsAny(p, "\\\x00") {
					t.Fatalf("%s allowed a non-canonical path %q", s, p)
				}
				lp := strings.ToLower(p)
				lt := strings.TrimSuffix(lp, "/")
				if (s == store.Nomad && under(lt, "/v1/acl/token/onetime")) ||
					(s == store.Vault && (strings.HasPrefix(lp, "/v1/auth/token/create") || under(lt, "/v1/nomad/creds"))) {
					t.Fatalf("%s allowed %s %q", s, r.Method, p)
				}
			} else if d.Blank != nil {
				t.Fatalf("refused with a blank")
			}
		}
	})
}

// FuzzRewriteResponse: any answer body, plain or gzip, is either refused
// or comes back as JSON without a non-empty SecretID at any depth.
func FuzzRewriteResponse(f *testing.F) {
	for _, b := range []string{nomadSelf, consulList, nomadXchg, oddCase, vaultLookup, `[]`, `null`, `{"SecretID":{"a":1}}`, `{"SecretID":null}`} {
		f.Add([]byte(b), false)
		f.Add([]byte(b), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, gz bool) {
		d := Decision{Blank: aclBlank, max: 1 << 16}
		h := http.Header{"Content-Type": {"application/json"}}
		b := encodeBody(body, gz, h)
		resp := &http.Response{StatusCode: 200, Header: h, Body: io.NopCloser(bytes.NewReader(b))}
		if err := d.RewriteResponse(resp); err != nil {
			return
		}
		out, _ := io.ReadAll(resp.Body)
		if len(bytes.TrimSpace(out)) == 0 {
			return
		}
		var v any
		dec := json.NewDecoder(bytes.NewReader(out))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("rewritten answer is not JSON: %v", err)
		}
		var check func(any)
		check = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, e := range x {
					if strings.EqualFold(k, "SecretID") && e != nil && e != "" {
						t.Fatalf("SecretID left: %v", e)
					}
					check(e)
				}
			case []any:
				for _, e := range x {
					check(e)
				}
			}
		}
		check(v)
	})
}
