package clientcert

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/hostile"
)

// TestReview12RevokeErrorHidesKey: revoke-with-key sends the private key
// in the request body; a refusal that quotes the body back (a proxy, a
// validation message) must not put the key into the error, which logout
// prints as a warning (and which lands in logs and terminals) while the
// certificate, whose revocation just failed, is still valid. The token
// and any JWT are masked in error bodies already (internal/apiclient);
// the key is not.
func TestReview12RevokeErrorHidesKey(t *testing.T) {
	srv := httptest.NewServer(hostile.EchoError())
	defer srv.Close()
	v, err := apiclient.New("Vault", srv.URL, "X-Vault-Token", apiclient.TLS{}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	c := &Cert{CertPEM: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", Key: key, Serial: "0a"}
	err = Revoke(context.Background(), v, "pki", c)
	if err == nil {
		t.Fatal("revocation refused by the server returned no error")
	}
	lines := strings.Split(strings.TrimSpace(key.Reveal()), "\n")
	for _, l := range lines[1 : len(lines)-1] { // the base64 lines of the key
		for _, part := range []string{l, l[:20]} {
			if strings.Contains(err.Error(), part) || strings.Contains(strings.ReplaceAll(err.Error(), `\n`, "\n"), part) {
				t.Fatalf("the error carries the private key (%q): %v", part, err)
			}
		}
	}
}
