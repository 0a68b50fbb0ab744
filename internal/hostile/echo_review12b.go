package hostile

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
)

// EchoEscapedError returns a handler that refuses every request with 400
// and a Vault-style error quoting the request body back percent-encoded,
// as a WAF or proxy logging the rejected request does ("blocked request
// body: %7B%22private_key%22...").
func EchoEscapedError() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string][]string{"errors": {"blocked request body: " + url.QueryEscape(string(b))}})
	})
}
