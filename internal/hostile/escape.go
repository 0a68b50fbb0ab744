package hostile

import (
	"io"
	"net/http"
)

// Escapes is text that a terminal would act on instead of showing: an OSC
// that sets the window title, a screen clear, a cursor move up with a
// carriage return (to overwrite the line above), a C1 CSI, and a
// right-to-left override that reorders what follows.
const Escapes = "\x1b]0;owned\x07\x1b[2J\x1b[1A\r\u009b31m\u202eevil"

// Escape sequences one by one, for a hostile SSO to put in its text:
// the terminal's title, a screen clear, a C1 CSI, a bidi override.
const (
	EscTitle = "\x1b]0;pwned\x07"
	EscClear = "\x1b[2J\x1b[H"
	EscC1    = "\u009b31m"
	EscBidi  = "\u202e"
)

// EscapeBodies are error bodies as Vault (JSON) and Nomad or Consul (plain
// text) send them, each carrying Escapes.
var EscapeBodies = map[string]struct{ ContentType, Body string }{
	"vault json": {"application/json", `{"errors":["permission denied \u001b]0;owned\u0007\u001b[2J\u001b[1A\r\u009b31m\u202eevil"]}`},
	"plain text": {"text/plain", "Permission denied " + Escapes},
}

// ErrorBody returns a handler that answers every request with status, the
// content type and body.
func ErrorBody(status int, contentType, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	})
}
