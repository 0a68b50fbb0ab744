package oidc

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeOP is a small OpenID provider speaking the real protocol: discovery,
// JWKS, authorization (redirecting straight back with a code) and a token
// endpoint that returns whatever ID token the test makes.
type fakeOP struct {
	*httptest.Server
	key, otherKey *rsa.PrivateKey

	mu    sync.Mutex
	nonce string                  // from the last authorization request
	codes map[string]bool         // issued, unused codes
	mint  func(op *fakeOP) string // makes the ID token for the token endpoint
	claim func(c map[string]any)  // edits the default claims
}

func newFakeOP(t *testing.T) *fakeOP {
	t.Helper()
	k1, _ := rsa.GenerateKey(rand.Reader, 2048)
	k2, _ := rsa.GenerateKey(rand.Reader, 2048)
	op := &fakeOP{key: k1, otherKey: k2, codes: map[string]bool{}}
	mux := http.NewServeMux()
	op.Server = httptest.NewServer(mux)
	t.Cleanup(op.Close)
	serveDiscovery(mux, op.URL, map[string]any{"revocation_endpoint": op.URL + "/revoke"})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"keys": []any{map[string]any{
			"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
			"n": b64(k1.N.Bytes()), "e": b64(big.NewInt(int64(k1.E)).Bytes()),
		}}})
	})
	mux.HandleFunc("GET /auth", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		code := "code-" + randomString(8)
		op.mu.Lock()
		op.nonce = q.Get("nonce")
		op.codes[code] = true
		op.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code="+code+"&state="+q.Get("state"), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		op.mu.Lock()
		ok := op.codes[r.PostForm.Get("code")]
		delete(op.codes, r.PostForm.Get("code"))
		op.mu.Unlock()
		if r.PostForm.Get("grant_type") == "authorization_code" && (!ok || r.PostForm.Get("code_verifier") == "") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"invalid_grant","error_description":"code unknown or already used"}`))
			return
		}
		if rt := r.PostForm.Get("refresh_token"); r.PostForm.Get("grant_type") == "refresh_token" && strings.HasPrefix(rt, "echo-") {
			// A provider that quotes the refused token back.
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant", "error_description": "unknown refresh token " + rt})
			return
		}
		if r.PostForm.Get("grant_type") == "refresh_token" && r.PostForm.Get("refresh_token") == "revoked" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"invalid_grant","error_description":"refresh token revoked"}`))
			return
		}
		mint := op.mint
		if mint == nil {
			mint = func(op *fakeOP) string { return op.sign(op.key, "RS256", op.claims()) }
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300,
			"refresh_token": "rt-" + randomString(8), "id_token": mint(op)})
	})
	mux.HandleFunc("POST /revoke", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if tok := r.PostForm.Get("token"); strings.HasPrefix(tok, "echo-") {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte("cannot revoke " + tok))
		}
	})
	return op
}

// serveDiscovery serves on mux the discovery document of an RS256
// authorization-code provider at issuer whose endpoints are issuer's
// own (no revocation endpoint), with the fields of over instead.
func serveDiscovery(mux *http.ServeMux, issuer string, over map[string]any) {
	doc := map[string]any{
		"issuer": issuer, "authorization_endpoint": issuer + "/auth", "token_endpoint": issuer + "/token",
		"jwks_uri": issuer + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
	}
	maps.Copy(doc, over)
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	})
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// claims are valid ID token claims for client "cli", with edits.
func (op *fakeOP) claims() map[string]any {
	op.mu.Lock()
	defer op.mu.Unlock()
	now := time.Now()
	c := map[string]any{
		"iss": op.URL, "sub": "alice-sub", "aud": "cli", "exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix(),
		"nonce": op.nonce, "cern_upn": "alice", "cern_roles": []string{"a", "b"},
		"resource_access": map[string]any{"cli": map[string]any{"roles": []string{"nested"}}},
	}
	if op.claim != nil {
		op.claim(c)
	}
	return c
}

func (op *fakeOP) sign(key *rsa.PrivateKey, alg string, claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": alg, "kid": "k1", "typ": "JWT"})
	p, _ := json.Marshal(claims)
	input := b64(h) + "." + b64(p)
	if alg == "none" {
		return input + "."
	}
	sum := sha256.Sum256([]byte(input))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	return input + "." + b64(sig)
}

// clickThrough is a Browser that follows the authorization URL like a
// user who is already signed in at the SSO.
type clickThrough struct {
	t    *testing.T
	page chan string
}

func (b clickThrough) Open(u string) error {
	go func() {
		resp, err := http.Get(u)
		if err != nil {
			b.page <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		var sb strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			sb.Write(buf[:n])
			if err != nil {
				break
			}
		}
		b.page <- sb.String()
	}()
	return nil
}
