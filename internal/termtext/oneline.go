package termtext

import (
	"regexp"
	"strings"
	"sync"
)

// multiHeader is hashicorp/go-multierror's first line, as Vault, Nomad
// and Consul send it in their error bodies: "1 error occurred:",
// "2 errors occurred:".
var multiHeader = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]+ errors? occurred:$`) })

// OneLine renders a message of several lines as one readable line, then
// cleans it (Clean): each non-blank line trimmed of blanks and of a
// leading "* " bullet, go-multierror's "N errors occurred:" header
// dropped, the rest joined with "; ". So Vault's
// "1 error occurred:\n\t* Put \"http://...\": dial tcp ...\n\n" reads
// `Put "http://...": dial tcp ...`, not `1 error occurred:??* Put ...??`.
func OneLine(s string) string {
	if !strings.ContainsAny(s, "\n\r") {
		return Clean(s)
	}
	var parts []string
	for _, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		line = strings.TrimSpace(line)
		line = strings.TrimSpace(strings.TrimPrefix(line, "* "))
		if line == "" || line == "*" || multiHeader().MatchString(line) {
			continue
		}
		parts = append(parts, line)
	}
	return Clean(strings.Join(parts, "; "))
}
