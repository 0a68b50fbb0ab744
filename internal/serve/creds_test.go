package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/testutil"
)

// fakeVault speaks the parts of Vault's API LeasedToken uses: a creds
// endpoint with leases, renew (which stops extending after two renewals,
// like a lease near its max TTL) and revoke, both in the path form only
// (a body is refused, as Vault's default policy with the recommended
// lease deny and serve's own policy refuse lease_id in it).
type fakeVault struct {
	mu      sync.Mutex
	issued  int
	renews  map[string]int
	revoked []string
}

func (f *fakeVault) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	if len(body) > 0 && r.URL.Path != "/v1/nomad/creds/broker" {
		// Vault's default policy is to deny lease_id in the body, and
		// serve's own policy admits no parameter on its lease paths.
		http.Error(w, `{"errors":["permission denied"]}`, http.StatusForbidden)
		return
	}
	switch path := r.URL.Path; {
	case path == "/v1/nomad/creds/broker":
		f.issued++
		n := string(rune('0' + f.issued))
		_ = json.NewEncoder(w).Encode(map[string]any{"lease_id": "nomad/creds/broker/" + n, "lease_duration": 1,
			"data": map[string]string{"secret_id": "token-" + n, "accessor_id": "acc-" + n}})
	case strings.HasPrefix(path, "/v1/sys/leases/renew/"):
		lease := strings.TrimPrefix(path, "/v1/sys/leases/renew/")
		f.renews[lease]++
		d := 1
		if f.renews[lease] > 2 {
			d = 0 // near max TTL: not extended
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"lease_id": lease, "lease_duration": d})
	case strings.HasPrefix(path, "/v1/sys/leases/revoke/"):
		f.revoked = append(f.revoked, strings.TrimPrefix(path, "/v1/sys/leases/revoke/"))
	default:
		http.NotFound(w, r)
	}
}

func TestLeasedToken(t *testing.T) {
	fv := &fakeVault{renews: map[string]int{}}
	vault := httptest.NewServer(fv)
	defer vault.Close()
	var seen []string
	var mu sync.Mutex
	nomad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("X-Nomad-Token"))
		mu.Unlock()
	}))
	defer nomad.Close()

	vc, err := apiclient.New("Vault", vault.URL, "X-Vault-Token", apiclient.TLS{}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	lt := &LeasedToken{Vault: vc.WithToken(secret.New("vault-token")), Path: "nomad/creds/broker", Header: "X-Nomad-Token"}
	ctx, cancel := context.WithCancel(context.Background())
	if err := lt.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	if got := lt.Current().Reveal(); got != "token-1" {
		t.Fatalf("token %q", got)
	}
	if lt.Current().String() == "token-1" {
		t.Fatal("the token prints itself")
	}
	hc := &http.Client{Transport: lt.Transport(nil)}
	resp, err := hc.Get(nomad.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	done := make(chan struct{})
	go func() { lt.Keep(ctx); close(done) }()
	// Renewed twice, then not extended: a new token is read and the old
	// lease revoked.
	if !testutil.Eventually(10*time.Second, func() bool { return lt.Current().Reveal() != "token-1" }) {
		t.Fatal("no new token")
	}
	cancel()
	<-done
	fv.mu.Lock()
	defer fv.mu.Unlock()
	if fv.renews["nomad/creds/broker/1"] < 2 {
		t.Errorf("renewals: %v", fv.renews)
	}
	if len(fv.revoked) != 2 || fv.revoked[0] != "nomad/creds/broker/1" || fv.revoked[1] != "nomad/creds/broker/2" {
		t.Errorf("revoked %v, want the replaced lease and, on shutdown, the current one", fv.revoked)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] != "token-1" {
		t.Errorf("Nomad saw tokens %v", seen)
	}
}

// TestLeasedTokenPrintsNoToken: the token sits in an unexported field;
// printing the whole LeasedToken, as a careless log line would, does not
// show it under any verb.
func TestLeasedTokenPrintsNoToken(t *testing.T) {
	vault := httptest.NewServer(&fakeVault{renews: map[string]int{}})
	defer vault.Close()
	vc, err := apiclient.New("Vault", vault.URL, "X-Vault-Token", apiclient.TLS{}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	lt := &LeasedToken{Vault: vc.WithToken(secret.New("vault-root-token")), Path: "nomad/creds/broker", Header: "X-Nomad-Token"}
	if err := lt.Fetch(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		out := fmt.Sprintf(verb, lt) + fmt.Sprintf(verb, lt.Vault)
		if strings.Contains(out, "token-1") || strings.Contains(out, "vault-root-token") ||
			strings.Contains(out, fmt.Sprintf("%x", "token-1")) {
			t.Errorf("%s shows a token: %s", verb, out)
		}
	}
}
