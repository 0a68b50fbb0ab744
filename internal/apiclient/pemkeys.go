package apiclient

import (
	"strings"

	"github.com/alisw/alilogin/internal/secret"
)

// MaskPEMKeys replaces each PEM private-key block in s ("-----BEGIN
// ... PRIVATE KEY-----" to its END line, or to the end of s when the end
// was cut off) with [REDACTED], whether its lines are broken by newlines
// or by JSON's escaped \n: a server or proxy that quotes a request body
// back (revoke-with-key sends the certificate's key) must not put the key
// into an error, which goes to terminals and logs. A text that quotes it
// percent- or form-encoded ("-----BEGIN+EC+PRIVATE+KEY-----%5Cn...", as
// a WAF or proxy logs a refused body) is decoded first and, when that
// shows a key, given back decoded and masked.
func MaskPEMKeys(s string) string {
	m := maskPEM(s)
	if strings.ContainsAny(s, "%+") {
		if d := formDecode(s); d != s {
			if md := maskPEM(d); md != d {
				return maskPEM(formDecode(m))
			}
		}
	}
	return m
}

// formDecode decodes the %XX escapes of s and its '+' (a form's space),
// leaving a '%' not followed by two hex digits as it is.
func formDecode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b.WriteByte(' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// maskPEM is MaskPEMKeys on s as it is.
func maskPEM(s string) string {
	const begin, end, tail = "-----BEGIN ", "-----END ", "PRIVATE KEY-----"
	var b strings.Builder
	for {
		i := strings.Index(s, begin)
		if i < 0 {
			break
		}
		hdr := s[i+len(begin):]
		j := strings.Index(hdr, "-----")
		if j < 0 || !strings.HasSuffix(hdr[:j+5], tail) || strings.ContainsAny(hdr[:j], "\n\\") {
			b.WriteString(s[:i+len(begin)])
			s = hdr
			continue
		}
		b.WriteString(s[:i])
		b.WriteString(secret.Redacted)
		rest := hdr[j+5:]
		k := strings.Index(rest, end)
		if k < 0 {
			s = ""
			break
		}
		after := rest[k+len(end):]
		if m := strings.Index(after, "-----"); m >= 0 {
			s = after[m+5:]
		} else {
			s = ""
		}
	}
	b.WriteString(s)
	return b.String()
}
