package hostile

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"sync"
	"time"
)

// OIDCOptions say what an OIDCProvider answers. The zero value is an
// honest provider for client "alilogin" that signs users in at once.
type OIDCOptions struct {
	ClientID string // the aud of its ID tokens; default "alilogin"
	// Claims are put into every ID token over the defaults (iss, sub,
	// aud, exp, iat, nonce); a nil value removes a claim.
	Claims map[string]any

	// The device authorization endpoint's answer (RFC 8628 3.2).
	VerificationURI         string // default Issuer + "/device"
	VerificationURIComplete string
	UserCode                string // default "WDJB-MJHT"
	Interval                int    // seconds; 0 leaves it out (the client's default, 5 s)
	ExpiresIn               int    // seconds; default 600
	// DevicePolls are the answers to the device token polls, in order:
	// an OAuth error code ("authorization_pending", "slow_down",
	// "expired_token", "access_denied", ...) or "" for the tokens. The
	// last one repeats; none means "" (signed in at the first poll).
	DevicePolls []string

	// FormClientOnly refuses device polls that carry HTTP Basic client
	// authentication (invalid_client): an SSO that wants the client id in
	// the form only.
	FormClientOnly bool

	// Discovery edits the discovery document before it is sent (nil:
	// none), e.g. to put escape sequences in an endpoint.
	Discovery func(doc map[string]any)

	// RevokeError, when set, is the body of a 400 answer to every token
	// revocation (RFC 7009); else revocations succeed.
	RevokeError string

	// TokenError, when set, refuses every other token request (code,
	// refresh) with this error code and TokenErrorDescription; also the
	// device polls answered with an error carry TokenErrorDescription.
	TokenError            string
	TokenErrorDescription string

	// HTTP2TLS serves the provider over TLS (httptest's certificate,
	// Server.Certificate) with HTTP/2 offered, as real SSOs do.
	HTTP2TLS bool
}

// OIDCProvider is an OpenID provider on 127.0.0.1 that answers what the
// test tells it: discovery, JWKS, an authorization endpoint that sends the
// browser straight back with a code (and the state it got), a device
// authorization endpoint, a token endpoint for the authorization code,
// device code and refresh grants, and a revocation endpoint. Its ID tokens are validly signed
// (RS256) whatever claims they carry, so that the client's own checks,
// not a bad signature, are what a test exercises.
type OIDCProvider struct {
	*Server
	Issuer string

	o   OIDCOptions
	key *rsa.PrivateKey

	mu    sync.Mutex
	nonce string      // of the last authorization request
	polls []time.Time // when each device poll arrived
}

// NewOIDCProvider starts the provider. Close it with t.Cleanup(p.Close).
func NewOIDCProvider(o OIDCOptions) *OIDCProvider {
	if o.ClientID == "" {
		o.ClientID = "alilogin"
	}
	if o.UserCode == "" {
		o.UserCode = "WDJB-MJHT"
	}
	if o.ExpiresIn == 0 {
		o.ExpiresIn = 600
	}
	key, _ := rsa.GenerateKey(rand.Reader, 2048) // crypto/rand does not fail
	p := &OIDCProvider{o: o, key: key}
	mux := http.NewServeMux()
	if o.HTTP2TLS {
		p.Server = NewTLSServerHTTP2(mux)
	} else {
		p.Server = NewServer(mux)
	}
	p.Issuer = p.URL
	if p.o.VerificationURI == "" {
		p.o.VerificationURI = p.Issuer + "/device"
	}
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /auth", p.auth)
	mux.HandleFunc("POST /device/code", p.deviceCode)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("POST /revoke", func(w http.ResponseWriter, r *http.Request) {
		if p.o.RevokeError != "" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(p.o.RevokeError))
		}
	})
	return p
}

// DevicePolls returns when each device token poll arrived.
func (p *OIDCProvider) DevicePolls() []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Time(nil), p.polls...)
}

// IDToken returns a signed ID token with the provider's claims and
// nonce, for tests that call a verifier directly.
func (p *OIDCProvider) IDToken(nonce string) string { return p.sign(p.claims(nonce)) }

func (p *OIDCProvider) discovery(w http.ResponseWriter, r *http.Request) {
	doc := map[string]any{
		"issuer": p.Issuer, "authorization_endpoint": p.Issuer + "/auth", "token_endpoint": p.Issuer + "/token",
		"device_authorization_endpoint": p.Issuer + "/device/code", "jwks_uri": p.Issuer + "/jwks",
		"revocation_endpoint":                   p.Issuer + "/revoke",
		"id_token_signing_alg_values_supported": []string{"RS256"}, "response_types_supported": []string{"code"},
		"subject_types_supported": []string{"public"},
		"grant_types_supported":   []string{"authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"},
	}
	if p.o.Discovery != nil {
		p.o.Discovery(doc)
	}
	oidcJSON(w, http.StatusOK, doc)
}

func (p *OIDCProvider) jwks(w http.ResponseWriter, r *http.Request) {
	oidcJSON(w, http.StatusOK, map[string]any{"keys": []any{map[string]any{
		"kty": "RSA", "kid": "hostile", "use": "sig", "alg": "RS256",
		"n": oidcB64(p.key.N.Bytes()), "e": oidcB64(big.NewInt(int64(p.key.E)).Bytes()),
	}}})
}

func (p *OIDCProvider) auth(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	p.nonce = q.Get("nonce")
	p.mu.Unlock()
	http.Redirect(w, r, q.Get("redirect_uri")+"?code=hostile-code&state="+q.Get("state"), http.StatusFound)
}

func (p *OIDCProvider) deviceCode(w http.ResponseWriter, r *http.Request) {
	m := map[string]any{"device_code": "hostile-device-code", "user_code": p.o.UserCode,
		"verification_uri": p.o.VerificationURI, "expires_in": p.o.ExpiresIn}
	if p.o.VerificationURIComplete != "" {
		m["verification_uri_complete"] = p.o.VerificationURIComplete
	}
	if p.o.Interval > 0 {
		m["interval"] = p.o.Interval
	}
	oidcJSON(w, http.StatusOK, m)
}

func (p *OIDCProvider) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	nonce := ""
	if r.PostForm.Get("grant_type") == "urn:ietf:params:oauth:grant-type:device_code" {
		if _, _, ok := r.BasicAuth(); ok && p.o.FormClientOnly {
			oidcJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
			return
		}
		p.mu.Lock()
		p.polls = append(p.polls, time.Now())
		n := len(p.polls)
		p.mu.Unlock()
		answer := ""
		if l := p.o.DevicePolls; len(l) > 0 {
			answer = l[min(n, len(l))-1]
		}
		if answer != "" {
			p.oauthError(w, answer)
			return
		}
	} else {
		if p.o.TokenError != "" {
			p.oauthError(w, p.o.TokenError)
			return
		}
		if r.PostForm.Get("grant_type") == "authorization_code" {
			p.mu.Lock()
			nonce = p.nonce
			p.mu.Unlock()
		}
	}
	oidcJSON(w, http.StatusOK, map[string]any{"access_token": "hostile-access-token", "token_type": "Bearer", "expires_in": 300,
		"refresh_token": "hostile-refresh-token", "id_token": p.sign(p.claims(nonce))})
}

func (p *OIDCProvider) oauthError(w http.ResponseWriter, code string) {
	m := map[string]string{"error": code}
	if p.o.TokenErrorDescription != "" {
		m["error_description"] = p.o.TokenErrorDescription
	}
	oidcJSON(w, http.StatusBadRequest, m)
}

func (p *OIDCProvider) claims(nonce string) map[string]any {
	now := time.Now()
	c := map[string]any{"iss": p.Issuer, "sub": "hostile-subject", "aud": p.o.ClientID,
		"exp": now.Add(10 * time.Minute).Unix(), "iat": now.Unix()}
	if nonce != "" {
		c["nonce"] = nonce
	}
	for k, v := range p.o.Claims {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func (p *OIDCProvider) sign(claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": "hostile", "typ": "JWT"})
	c, _ := json.Marshal(claims)
	input := oidcB64(h) + "." + oidcB64(c)
	sum := sha256.Sum256([]byte(input))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, p.key, crypto.SHA256, sum[:])
	return input + "." + oidcB64(sig)
}

func oidcB64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func oidcJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
