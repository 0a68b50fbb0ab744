package hostile

import (
	"encoding/json"
	"io"
	"net/http"
)

// EchoError returns a handler that refuses every request with 400 and a
// Vault-style error that quotes the request body back, as a proxy, a
// WAF or a server's validation message can ("invalid request: <body>").
func EchoError() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string][]string{"errors": {"invalid request: " + string(b)}})
	})
}
