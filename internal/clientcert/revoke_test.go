package clientcert

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/secret"
)

// refusedRevoke revokes a certificate with key at a Vault that h
// answers, and returns the error, failing the test when there is none.
func refusedRevoke(t *testing.T, h http.Handler, key secret.String) error {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	v, err := apiclient.New("Vault", srv.URL, "X-Vault-Token", apiclient.TLS{}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := &Cert{CertPEM: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", Key: key, Serial: "0a"}
	err = Revoke(context.Background(), v, "pki", c)
	if err == nil {
		t.Fatal("revocation refused by the server returned no error")
	}
	return err
}

// TestRevokeErrorHidesKey: revoke-with-key sends the private key
// in the request body; a refusal that quotes the body back (a proxy, a
// validation message) must not put the key into the error, which logout
// prints as a warning (and which lands in logs and terminals) while the
// certificate, whose revocation just failed, is still valid. The token
// and any JWT are masked in error bodies already (internal/apiclient);
// the key is not.
func TestRevokeErrorHidesKey(t *testing.T) {
	key, _, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	err = refusedRevoke(t, hostile.EchoError(), key)
	lines := strings.Split(strings.TrimSpace(key.Reveal()), "\n")
	for _, l := range lines[1 : len(lines)-1] { // the base64 lines of the key
		for _, part := range []string{l, l[:20]} {
			if strings.Contains(err.Error(), part) || strings.Contains(strings.ReplaceAll(err.Error(), `\n`, "\n"), part) {
				t.Fatalf("the error carries the private key (%q): %v", part, err)
			}
		}
	}
}

// TestRevokeErrorHidesPercentEncodedKey: the masking of a key quoted
// back in a revoke-with-key refusal knows the PEM armour and the key's
// base64 lines as sent; a WAF or proxy that quotes the body
// percent-encoded ("-----BEGIN+EC+PRIVATE+KEY-----%5Cn", '+' as %2B, '/'
// as %2F) matches neither, and the key's base64 between them reaches the
// error (which logout prints and logs keep). Before: runs of 16+
// characters of the key's base64 are in the error. Want: none.
func TestRevokeErrorHidesPercentEncodedKey(t *testing.T) {
	// A key whose first base64 line (the private scalar's) has a '+' or
	// '/' (most keys: 87%), so that the percent-encoding changes it.
	var key secret.String
	for {
		var err error
		if key, _, err = NewKey(); err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(strings.Split(key.Reveal(), "\n")[1], "+/") {
			break
		}
	}
	err := refusedRevoke(t, hostile.EchoEscapedError(), key)
	msg := err.Error()
	if u, uerr := url.QueryUnescape(msg); uerr == nil {
		msg += "\n" + u
	}
	blk, _ := pem.Decode([]byte(key.Reveal()))
	b64 := base64.StdEncoding.EncodeToString(blk.Bytes)
	for i := 0; i+16 <= len(b64); i += 8 {
		if part := b64[i : i+16]; strings.Contains(msg, part) {
			t.Fatalf("the error carries the private key (%q at %d): %s", part, i, err)
		}
	}
}

// TestSignHostileAnswersAreErrors: hostile or broken answers of the sign
// endpoint give an error, never a panic or a kept certificate (held).
func TestSignHostileAnswersAreErrors(t *testing.T) {
	for _, body := range []string{
		`{}`, `{"data":null}`, `{"data":{"certificate":7}}`, `{"data":{"certificate":""}}`,
		`{"data":{"certificate":"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}}`,
		`{"data":{"certificate":"-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"}}`,
		`{"data":{"certificate":null,"ca_chain":[null,7]}}`,
		`[1,2,3]`, `null`, `"x"`,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, body)
		}))
		v, err := apiclient.New("Vault", srv.URL, "X-Vault-Token", apiclient.TLS{}, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c, err := Sign(context.Background(), v, "pki", "ci", "alice", 0)
		srv.Close()
		if err == nil || c != nil {
			t.Errorf("answer %s: kept %+v, err %v", body, c, err)
		}
	}
}
