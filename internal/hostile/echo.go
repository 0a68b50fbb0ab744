package hostile

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
)

// EchoError returns a handler that refuses every request with 400 and a
// Vault-style error that quotes the request body back, as a proxy, a
// WAF or a server's validation message can ("invalid request: <body>").
func EchoError() http.Handler {
	return echo("invalid request: ", func(b string) string { return b })
}

// EchoEscapedError returns a handler that refuses every request with 400
// and a Vault-style error quoting the request body back percent-encoded,
// as a WAF or proxy logging the rejected request does ("blocked request
// body: %7B%22private_key%22...").
func EchoEscapedError() http.Handler {
	return echo("blocked request body: ", url.QueryEscape)
}

// echo refuses every request with 400 and an error of prefix and the
// request body (up to 64 KiB) as quote writes it.
func echo(prefix string, quote func(string) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string][]string{"errors": {prefix + quote(string(b))}})
	})
}
