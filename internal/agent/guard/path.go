package guard

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxPathLen bounds the path of a request as it goes to the server
// (escaped form). Real paths are far shorter: a Consul KV key or a Vault
// secret path of a few hundred bytes; 2 KiB keeps room for them.
const MaxPathLen = 2048

// canonicalPath returns the path the server will act on for u, or why it
// is refused. The agent's reverse proxy forwards u.EscapedPath() as sent
// (RawPath when it is a valid encoding of Path), and each server decodes it
// once into URL.Path before it routes:
//
//   - Vault 1.13 (http/handler.go, http/logical.go): an http.ServeMux with
//     "/v1/" as a catch-all, then the logical path is r.URL.Path minus
//     "/v1/", so "/v1/auth%2ftoken%2flookup-self" is served as
//     auth/token/lookup-self (measured on the stack: 200), "%2d" decodes
//     the same way. The mux answers a path with "//", "." or ".." segments
//     with a redirect (307) to the cleaned path instead of serving it.
//     A trailing slash is not stripped (lookup-self/ is 404), matching is
//     case-sensitive (LOOKUP-SELF, AUTH/ are 404), a backslash is an
//     ordinary byte (404), a NUL or other non-printable rune in the
//     decoded path is refused (400, go-cleanhttp PrintablePathCheckHandler).
//   - Nomad 1.6.1 (command/agent/http.go): an http.ServeMux of fixed
//     patterns ("/v1/acl/token/", "/v1/job/", ...); handlers cut
//     req.URL.Path (decoded) with strings.TrimPrefix: "/v1/acl/token/%73elf"
//     is token self (200, measured). A "%2f" inside a pattern's fixed part
//     does not match the mux (404), but inside the part a handler cuts
//     ("/v1/job/a%2fallocations") it becomes a real "/" for the handler.
//     Case-sensitive, trailing slash not stripped ("self/" is 500: not a
//     UUID), same redirects as Vault for unclean paths.
//   - Consul 1.16.3 (agent/http.go, http_register.go): the same kind of
//     ServeMux and TrimPrefix on the decoded path; same measurements as
//     Nomad ("%73elf" served as self, "//" and ".." redirected, "%2f" in
//     the fixed part 404).
//
// So the decision is made on the decoded path, and everything that could
// make the mux, a handler and this package disagree about it is refused:
// an encoded "/", "\", ".", "%" (also "%252f": "%25" is refused, so a
// double decode cannot happen), a "." or ".." segment, an empty segment
// ("//"; one trailing slash is allowed: Vault lists and Consul key
// prefixes end in one), a backslash, control bytes or a non-printable or
// invalid UTF-8 rune, a path not under /v1/, a path over MaxPathLen.
// Other escapes ("%20" in a Consul key) are decoded and allowed.
func canonicalPath(u *url.URL) (string, error) {
	if u == nil {
		return "", fmt.Errorf("no URL")
	}
	if u.Opaque != "" {
		return "", fmt.Errorf("an opaque request target")
	}
	raw := u.EscapedPath()
	if len(raw) > MaxPathLen {
		return "", fmt.Errorf("a path longer than %d bytes", MaxPathLen)
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c < 0x20 || c == 0x7f:
			return "", fmt.Errorf("a control byte in the path")
		case c == '\\':
			return "", fmt.Errorf("a backslash in the path")
		case c == '%':
			if i+2 >= len(raw) || !ishex(raw[i+1]) || !ishex(raw[i+2]) {
				return "", fmt.Errorf("a malformed escape in the path")
			}
			d := unhex(raw[i+1])<<4 | unhex(raw[i+2])
			switch {
			case d == '/' || d == '\\' || d == '.' || d == '%':
				return "", fmt.Errorf("an escaped %q in the path", rune(d))
			case d < 0x20 || d == 0x7f:
				return "", fmt.Errorf("an escaped control byte in the path")
			}
			i += 2
		}
	}
	p, err := url.PathUnescape(raw)
	if err != nil {
		return "", fmt.Errorf("a malformed escape in the path")
	}
	if !utf8.ValidString(p) {
		return "", fmt.Errorf("a path that is not UTF-8")
	}
	for _, r := range p {
		if r != ' ' && !unicode.IsPrint(r) {
			return "", fmt.Errorf("a non-printable character in the path")
		}
	}
	if !strings.HasPrefix(p, "/v1/") {
		return "", fmt.Errorf("a path outside /v1/")
	}
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		switch {
		case s == "." || s == "..":
			return "", fmt.Errorf("a %q segment in the path", s)
		case s == "" && i != len(segs)-1:
			return "", fmt.Errorf("an empty segment (//) in the path")
		}
	}
	if p == "/v1/" {
		return "", fmt.Errorf("no path under /v1/")
	}
	return p, nil
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// lower is ASCII lower case: the refused routes are matched without
// regard to case even though every server matches case-sensitively
// (measured: "/v1/ACL/..." and "LOOKUP-SELF" are 404), so that a server
// that folded case some day would still not hand out a secret.
func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
