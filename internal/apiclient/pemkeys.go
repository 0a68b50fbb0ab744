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
// into an error, which goes to terminals and logs.
func MaskPEMKeys(s string) string {
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
