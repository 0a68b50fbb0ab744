package guard

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/store"
)

const realSecret = "6b3f2a1e-5c9d-4e8f-a7b6-1d2c3e4f5a6b"

// Answers as the servers give them (shapes measured on the stack).
var (
	nomadSelf   = `{"AccessorID":"109cf455-3675-d9ec-4bb9-2e17ae8a8304","SecretID":"` + realSecret + `","Name":"ci","Type":"client","Policies":["ci"],"CreateIndex":18446744073709551615}`
	consulList  = `[{"AccessorID":"a1","SecretID":"` + realSecret + `","Description":"x <b>"},{"AccessorID":"a2","SecretID":"` + realSecret + `"}]`
	nomadXchg   = `{"Token":{"AccessorID":"a","SecretID":"` + realSecret + `"},"Index":3}`
	oddCase     = `{"secretid":"` + realSecret + `","SECRETID":"` + realSecret + `","Nested":[{"SecretId":"` + realSecret + `"}],"SecretIDNote":"kept"}`
	vaultLookup = `{"request_id":"r","data":{"accessor":"acc","id":"` + realSecret + `","policies":["default"],"ttl":3600},"wrap_info":null,"auth":null}`
	vaultRenew  = `{"auth":{"client_token":"` + realSecret + `","accessor":"acc","lease_duration":3600},"data":null}`
	vaultWrap   = `{"wrap_info":{"token":"` + realSecret + `","ttl":300},"data":{"id":"kept: not a lookup"}}`
)

// encodeBody is b as a server sends it: gzipped, with the header saying
// so in h, when gz.
func encodeBody(b []byte, gz bool, h http.Header) []byte {
	if !gz {
		return b
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	h.Set("Content-Encoding", "gzip")
	return buf.Bytes()
}

func answer(status int, body string, gz bool, header ...string) *http.Response {
	h := http.Header{"Content-Type": {"application/json"}}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	b := encodeBody([]byte(body), gz, h)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(b)), ContentLength: int64(len(b)),
		Request: &http.Request{Method: "GET"}}
}

func decision(t *testing.T, server store.Kind, method, target string) Decision {
	t.Helper()
	d := Check(server, wire(t, method, target), Rules{})
	if d.Refuse != "" || d.Blank == nil {
		t.Fatalf("%s %s: %+v, want a blanked answer", method, target, d)
	}
	return d
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(b)) || resp.ContentLength != int64(len(b)) {
		t.Errorf("Content-Length %q / %d for %d bytes", cl, resp.ContentLength, len(b))
	}
	return string(b)
}

func TestSecretFieldsAreBlankedInAnswers(t *testing.T) {
	for _, c := range []struct {
		name           string
		server         store.Kind
		method, target string
		body           string
		gz             bool
		want           string
	}{
		{"nomad token self, gzip", store.Nomad, "GET", "/v1/acl/token/self", nomadSelf, true,
			`{"AccessorID":"109cf455-3675-d9ec-4bb9-2e17ae8a8304","CreateIndex":18446744073709551615,"Name":"ci","Policies":["ci"],"SecretID":"","Type":"client"}`},
		{"consul token list", store.Consul, "GET", "/v1/acl/tokens", consulList, false,
			`[{"AccessorID":"a1","Description":"x <b>","SecretID":""},{"AccessorID":"a2","SecretID":""}]`},
		{"consul token list, gzip", store.Consul, "GET", "/v1/acl/tokens", consulList, true,
			`[{"AccessorID":"a1","Description":"x <b>","SecretID":""},{"AccessorID":"a2","SecretID":""}]`},
		{"nested token", store.Nomad, "PUT", "/v1/acl/login", nomadXchg, false, `{"Index":3,"Token":{"AccessorID":"a","SecretID":""}}`},
		{"every spelling", store.Consul, "GET", "/v1/acl/token/self", oddCase, false,
			`{"Nested":[{"SecretId":""}],"SECRETID":"","SecretIDNote":"kept","secretid":""}`},
		{"vault lookup-self", store.Vault, "GET", "/v1/auth/token/lookup-self", vaultLookup, false,
			`{"auth":null,"data":{"accessor":"acc","id":"","policies":["default"],"ttl":3600},"request_id":"r","wrap_info":null}`},
		{"vault renew-self", store.Vault, "POST", "/v1/auth/token/renew-self", vaultRenew, true,
			`{"auth":{"accessor":"acc","client_token":"","lease_duration":3600},"data":null}`},
		{"vault wrapped answer", store.Vault, "POST", "/v1/sys/wrapping/unwrap", vaultWrap, false,
			`{"data":{"id":"kept: not a lookup"},"wrap_info":{"token":"","ttl":300}}`},
		{"vault array root", store.Vault, "POST", "/v1/auth/jwt/login", `[` + vaultRenew + `]`, false,
			`[{"auth":{"accessor":"acc","client_token":"","lease_duration":3600},"data":null}]`},
		{"not an object", store.Nomad, "GET", "/v1/acl/tokens", `"just a string"`, false, `"just a string"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := decision(t, c.server, c.method, c.target)
			resp := answer(200, c.body, c.gz)
			if err := d.RewriteResponse(resp); err != nil {
				t.Fatal(err)
			}
			if resp.Header.Get("Content-Encoding") != "" {
				t.Errorf("Content-Encoding %q left", resp.Header.Get("Content-Encoding"))
			}
			got := strings.TrimSpace(readAll(t, resp))
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if strings.Contains(got, realSecret) {
				t.Errorf("the secret came back: %s", got)
			}
		})
	}
}

func TestAnswersThatCannotBeCheckedAreRefused(t *testing.T) {
	d := decision(t, store.Consul, "GET", "/v1/acl/tokens")
	d.max = 1024
	big := `[` + strings.Repeat(`{"SecretID":"`+realSecret+`"},`, 100) + `{}]`
	bomb := `{"x":"` + strings.Repeat("a", 1<<20) + `"}` // compresses to ~1 KiB
	for _, c := range []struct {
		name string
		resp *http.Response
		want error
	}{
		{"too large", answer(200, big, false), ErrTooLarge},
		{"too large once decoded", answer(200, bomb, true), ErrTooLarge},
		{"not JSON", answer(200, "SecretID: "+realSecret, false), nil},
		{"two JSON values", answer(200, `{} {"SecretID":"`+realSecret+`"}`, false), nil},
		{"brotli", answer(200, nomadSelf, false, "Content-Encoding", "br"), nil},
		{"broken gzip", answer(200, nomadSelf, false, "Content-Encoding", "gzip"), nil},
		{"HTML", answer(200, `{"SecretID":"`+realSecret+`"}`, false, "Content-Type", "text/html"), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := d.RewriteResponse(c.resp)
			if err == nil {
				t.Fatal("passed")
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("%v, want %v", err, c.want)
			}
			if strings.Contains(err.Error(), realSecret) {
				t.Errorf("the error holds the secret: %v", err)
			}
		})
	}
}

func TestAnswersWithoutSecretsPassUnread(t *testing.T) {
	d := decision(t, store.Nomad, "GET", "/v1/acl/token/self")
	for _, c := range []struct {
		name string
		resp *http.Response
	}{
		{"403 text", answer(403, "Permission denied", false, "Content-Type", "text/plain")},
		{"500", answer(500, "acl token lookup failed", true)},
		{"204", answer(204, "", false)},
		{"HEAD", func() *http.Response { r := answer(200, nomadSelf, false); r.Request.Method = "HEAD"; return r }()},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := c.resp.Body
			if err := d.RewriteResponse(c.resp); err != nil {
				t.Fatal(err)
			}
			if c.resp.Body != before {
				t.Errorf("body replaced")
			}
		})
	}
	// No Blank: nothing is read, whatever the answer.
	plain := Check(store.Nomad, wire(t, "GET", "/v1/jobs"), Rules{})
	resp := answer(200, nomadSelf, true)
	body := resp.Body
	if err := plain.RewriteResponse(resp); err != nil || resp.Body != body {
		t.Errorf("answer touched: %v", err)
	}
	if err := (Decision{Blank: aclBlank}).RewriteResponse(nil); err != nil {
		t.Error(err)
	}
	empty := answer(200, "  ", false)
	if err := d.RewriteResponse(empty); err != nil || readAll(t, empty) != "  " {
		t.Errorf("empty body: %v", err)
	}
}

// The rewrite as the agent uses it: a ReverseProxy's ModifyResponse, a
// server that gzips, a client that asked for gzip (as Go's transport does
// by itself).
func TestRewriteInReverseProxy(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		io.WriteString(zw, nomadSelf)
		zw.Close()
	}))
	defer srv.Close()
	target, _ := url.Parse(srv.URL)
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		ModifyResponse: func(resp *http.Response) error {
			return Check(store.Nomad, resp.Request, Rules{}).RewriteResponse(resp)
		},
	}
	front := httptest.NewServer(proxy)
	defer front.Close()
	resp, err := http.Get(front.URL + "/v1/acl/token/self")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct{ AccessorID, SecretID string }
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
		t.Fatal(err)
	}
	if tok.SecretID != "" || tok.AccessorID == "" {
		t.Errorf("%+v", tok)
	}
}
