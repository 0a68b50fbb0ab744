package leader

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/secret"
)

// recorder is a Consul that records the token and query of each request
// and answers a KV read with "no such key".
type recorder struct {
	mu     sync.Mutex
	tokens []string
	ns     []string
}

// requests are the tokens and the namespace|partition of the requests
// so far.
func (rc *recorder) requests() (tokens, ns []string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.tokens), slices.Clone(rc.ns)
}

// client is a Consul client of the broker's kind, without a token, for
// a new recorder at an http:// address.
func (rc *recorder) client(t *testing.T) *apiclient.Client {
	t.Helper()
	cl, err := apiclient.For(apiclient.Consul, rc.server(t).URL, apiclient.TLS{})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func (rc *recorder) server(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.mu.Lock()
		rc.tokens = append(rc.tokens, r.Header.Get("X-Consul-Token"))
		rc.ns = append(rc.ns, r.URL.Query().Get("ns")+"|"+r.URL.Query().Get("partition"))
		rc.mu.Unlock()
		w.Header().Set("X-Consul-Index", "1")
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// The broker's Consul token is CONSUL_HTTP_TOKEN (apply.ClientsFromEnv);
// every other Consul call of the broker sends it, and so did the lock
// before consul/api's Lock. The lock's client must send the same token,
// not another one that consul/api's NewClient finds in the process's
// environment: with CONSUL_HTTP_TOKEN_FILE also set (a Nomad template,
// a leftover of the deployment), consul/api reads the file and sends its
// token instead, because the configured token equals CONSUL_HTTP_TOKEN.
func TestLockSendsTheBrokersConsulTokenNotTheTokenFiles(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("token-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CONSUL_HTTP_TOKEN", "broker-token")
	t.Setenv("CONSUL_HTTP_TOKEN_FILE", file)
	var rc recorder
	cl := rc.client(t)
	if _, err := Current(context.Background(), cl.WithToken(secret.New("broker-token")), DefaultKey); err != nil {
		t.Fatal(err)
	}
	tokens, _ := rc.requests()
	for _, tok := range tokens {
		if tok != "broker-token" {
			t.Errorf("the lock's read of %s sent X-Consul-Token %q, want the broker's own token", DefaultKey, tok)
		}
	}
}

// The session holding the lock is created without a namespace or
// partition (apiclient); the lock's key must be read and acquired in the
// same place. consul/api's NewClient adds CONSUL_NAMESPACE and
// CONSUL_PARTITION of the process's environment to every request: the
// lock is then taken in another namespace than the session's (Consul
// Enterprise: two brokers with different values lead at once; Consul CE
// refuses the parameter, and no broker ever leads).
func TestLockKeyIsNotMovedByTheEnvironmentsNamespace(t *testing.T) {
	t.Setenv("CONSUL_NAMESPACE", "elsewhere")
	t.Setenv("CONSUL_PARTITION", "other")
	var rc recorder
	cl := rc.client(t)
	if _, err := Current(context.Background(), cl.WithToken(secret.New("broker-token")), DefaultKey); err != nil {
		t.Fatal(err)
	}
	_, ns := rc.requests()
	for _, q := range ns {
		if q != "|" {
			t.Errorf("the lock's read of %s went to namespace|partition %q, not where the broker's session is", DefaultKey, q)
		}
	}
}

// With --consul-token-from-vault the broker's Consul client has no token
// of its own (its transport adds the leased one) and CONSUL_HTTP_TOKEN is
// not read. The lock's client must not then fail on, or read, a
// CONSUL_HTTP_TOKEN_FILE of the environment: the broker would never lead.
func TestLockWithLeasedTokenIgnoresTheEnvironmentsTokenFile(t *testing.T) {
	t.Setenv("CONSUL_HTTP_TOKEN", "")
	t.Setenv("CONSUL_HTTP_TOKEN_FILE", filepath.Join(t.TempDir(), "missing"))
	var rc recorder
	cl := rc.client(t)
	if _, err := Current(context.Background(), cl, DefaultKey); err != nil {
		t.Errorf("the lock's client failed on the environment's token file: %v", err)
	}
}

// The scheme is the broker's Consul address's: consul/api's NewClient
// switches an http:// address to https when CONSUL_HTTP_SSL=true is in
// the environment ("never revert to http if TLS was explicitly
// requested"), and the lock would then never reach Consul.
func TestLockSchemeIsTheBrokersAddressNotCONSULHTTPSSL(t *testing.T) {
	t.Setenv("CONSUL_HTTP_SSL", "true")
	var rc recorder
	cl := rc.client(t) // http://
	if _, err := Current(context.Background(), cl.WithToken(secret.New("broker-token")), DefaultKey); err != nil {
		t.Fatalf("the lock's read over the broker's http:// address: %v", err)
	}
	if tokens, _ := rc.requests(); len(tokens) == 0 {
		t.Error("the lock's read did not reach the broker's Consul")
	}
}
