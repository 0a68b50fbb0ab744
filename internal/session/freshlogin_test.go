package session

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/clientcert"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/testutil"
)

// pkiVault is a Vault that answers a JWT login with a new token, revokes
// tokens and signs CSRs at pki/sign/<profile>; calls lists each request
// as "METHOD path token".
type pkiVault struct {
	*httptest.Server
	mu     sync.Mutex
	calls  []string
	serial int64
}

func newPKIVault(t *testing.T) *pkiVault {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	v := &pkiVault{serial: 1}
	v.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v.mu.Lock()
		defer v.mu.Unlock()
		v.calls = append(v.calls, r.Method+" "+r.URL.Path+" "+r.Header.Get("X-Vault-Token"))
		switch {
		case r.URL.Path == "/v1/auth/jwt/login":
			w.Write([]byte(`{"auth":{"client_token":"hvs.new","accessor":"acc-new","lease_duration":3600,"renewable":true}}`))
		case r.URL.Path == "/v1/auth/token/revoke-self":
			w.WriteHeader(http.StatusNoContent)
		case strings.HasPrefix(r.URL.Path, "/v1/pki/sign/"):
			var body struct{ CSR string }
			json.NewDecoder(r.Body).Decode(&body)
			b, _ := pem.Decode([]byte(body.CSR))
			csr, err := x509.ParseCertificateRequest(b.Bytes)
			if err != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			v.serial++
			tmpl := &x509.Certificate{SerialNumber: big.NewInt(v.serial), Subject: csr.Subject, NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
				ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, csr.PublicKey, caKey)
			if err != nil {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{
				"certificate": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
				"issuing_ca":  string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})),
			}})
		default:
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"errors":["permission denied"]}`))
		}
	}))
	t.Cleanup(v.Close)
	return v
}

func (v *pkiVault) called(prefix string) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []string
	for _, c := range v.calls {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// reloginSetup is step 4's fresh login (freshLogin as the chain's port)
// at v, and a record whose Vault token has expired, with a certificate
// signed by it when withCert.
func reloginSetup(t *testing.T, v *pkiVault, withCert bool) (*freshLogin, *store.Record) {
	t.Helper()
	e, _, _ := testEnv(testutil.Home(t, nil))
	cfg := &config.Config{Vault: config.Server{Addr: v.URL, Mount: "jwt"}, PKIMount: "pki"}
	cl, err := NewClients(cfg)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	rec := &store.Record{Profile: "ci", User: "alice",
		Vault: &store.Token{Secret: secret.New("hvs.old"), Accessor: "acc-old", ExpiresAt: now.Add(-time.Minute)}}
	if withCert {
		rec.ClientCert = &clientcert.Cert{Serial: "01", Mount: "pki", NotAfter: now.Add(3 * time.Hour), IssuedAt: now.Add(-time.Hour)}
	}
	return &freshLogin{env: *e, cfg: cfg, cl: cl}, rec
}

// TestReloginSignsCertWithNewVaultToken: the role's generate_lease ties a
// certificate to the Vault token that signed it: Vault revokes it when
// that token expires or is revoked (cmd/broker/e2e
// TestReview12ClientCertDiesWithVaultToken). Step 4's fresh login, after
// the new Vault login, therefore signs a certificate with the new token,
// however long the record's NotAfter, and does not revoke the old one
// again (it is dead with its token: no warning about it).
func TestReloginSignsCertWithNewVaultToken(t *testing.T) {
	v := newPKIVault(t)
	fl, rec := reloginSetup(t, v, true)
	rep, errs, err := fl.FreshLogin(context.Background(), rec, secret.New("eyJ.id.sig"), nil)
	if err != nil || len(errs) > 0 {
		t.Fatalf("FreshLogin: %v, %v", err, errs)
	}
	if signed := v.called("POST /v1/pki/sign/ci"); len(signed) != 1 || !strings.HasSuffix(signed[0], " hvs.new") {
		t.Errorf("sign requests %q, want one with the new Vault token", signed)
	}
	if rec.ClientCert == nil || rec.ClientCert.Serial == "01" || !rec.Vault.Secret.Equal(secret.New("hvs.new")) {
		t.Errorf("record after step 4: certificate %+v, Vault token %v; want a new certificate and the new token", rec.ClientCert, rec.Vault)
	}
	if revoked := v.called("POST /v1/pki/revoke"); len(revoked) != 0 || len(rep.Warnings) != 0 {
		t.Errorf("the dead certificate was revoked again (%q), warnings %q", revoked, rep.Warnings)
	}
}

// TestReloginSignsNoCertForRecordWithout: a record that had no
// certificate gets none at step 4 (its profile may have no PKI role).
func TestReloginSignsNoCertForRecordWithout(t *testing.T) {
	v := newPKIVault(t)
	fl, rec := reloginSetup(t, v, false)
	if _, errs, err := fl.FreshLogin(context.Background(), rec, secret.New("eyJ.id.sig"), nil); err != nil || len(errs) > 0 {
		t.Fatalf("FreshLogin: %v, %v", err, errs)
	}
	if signed := v.called("POST /v1/pki/sign/"); len(signed) != 0 || rec.ClientCert != nil {
		t.Errorf("a record without a certificate got one at step 4: %q", signed)
	}
}

// TestLoginWithoutLockRevokesWhatItGot: a fresh login that does not get
// the profile's lock (another alilogin holds it) stores nothing, and
// revokes what it obtained: its Vault token (and with it what was
// minted) and its SSO session (the refresh token); the stored login is
// kept.
func TestLoginWithoutLockRevokesWhatItGot(t *testing.T) {
	v := newPKIVault(t)
	fl, _ := reloginSetup(t, v, false)
	fl.env.LockWait = 50 * time.Millisecond
	st, err := store.Open("file", fl.env.Getenv, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := store.LockDir(fl.env.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	held, err := store.AcquireLock(context.Background(), dir, "ci", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	var revokedRefresh []string
	fl.store, fl.signCert = st, true
	fl.revokeRefresh = func(_ context.Context, rt secret.String) error {
		revokedRefresh = append(revokedRefresh, rt.Reveal())
		return nil
	}
	rec := &store.Record{Profile: "ci", User: "alice", RefreshToken: secret.New("rt-new")}
	_, err = fl.run(context.Background(), rec, secret.New("eyJ.id.sig"), nil)
	if err == nil || !strings.Contains(err.Error(), "the new login was not stored and its tokens were revoked") {
		t.Fatalf("run without the lock: %v", err)
	}
	if revoked := v.called("POST /v1/auth/token/revoke-self hvs.new"); len(revoked) != 1 {
		t.Errorf("the new Vault token was revoked %d times, want once", len(revoked))
	}
	if len(revokedRefresh) != 1 || revokedRefresh[0] != "rt-new" {
		t.Errorf("refresh tokens revoked: %q, want the new login's", revokedRefresh)
	}
	if _, err := st.Get("ci"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a login without the lock was stored: %v", err)
	}
}
