package apiclient

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestServerMultiLineErrorReadsAsOneLine: Vault relays a failure of
// Nomad or Consul in go-multierror's form ("1 error occurred:\n\t*
// ...\n\n"); the error says its message on one line, joined with "; ",
// and not as `1 error occurred:??* Put ...??` (the newline and tab
// replaced by Clean's '?').
func TestServerMultiLineErrorReadsAsOneLine(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, `{"errors":["1 error occurred:\n\t* Put \"http://127.0.0.1:1/v1/acl/token\": dial tcp 127.0.0.1:1: connect: connection refused\n\n"]}`)
	}))
	defer srv.Close()
	c, err := New("Vault", srv.URL, "X-Vault-Token", TLS{}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Do(context.Background(), http.MethodPut, "/v1/sys/leases/revoke/nomad/creds/ci-user/x", nil, nil)
	if err == nil {
		t.Fatal("no error for a 500")
	}
	want := `Vault PUT /v1/sys/leases/revoke/nomad/creds/ci-user/x: 500: Put "http://127.0.0.1:1/v1/acl/token": dial tcp 127.0.0.1:1: connect: connection refused`
	if got := err.Error(); got != want {
		t.Errorf("error:\n got %q\nwant %q", got, want)
	}
	if strings.Contains(err.Error(), "??") {
		t.Errorf("newlines shown as '?': %s", err)
	}
}
