package hostile

import (
	"encoding/json"
	"net/http"
)

// NewRecordingIssuer starts an OpenID provider on 127.0.0.1 that is
// discoverable (its discovery document names itself as issuer, and a
// token, JWKS and revocation endpoint) but grants nothing: the token
// endpoint answers invalid_grant, the revocation endpoint 200. It stands
// for an issuer a login was not made with (a changed configuration, a
// hostile discovery document): tests read its Recorder to show that no
// refresh token ever reached it.
func NewRecordingIssuer() *Server {
	var s *Server
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                s.URL,
			"authorization_endpoint":                s.URL + "/auth",
			"token_endpoint":                        s.URL + "/token",
			"jwks_uri":                              s.URL + "/jwks",
			"revocation_endpoint":                   s.URL + "/revoke",
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"keys":[]}`))
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"invalid_grant"}`))
	})
	mux.HandleFunc("POST /revoke", func(w http.ResponseWriter, r *http.Request) {})
	s = NewServer(mux)
	return s
}
