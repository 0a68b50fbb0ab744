package termtext

import "testing"

// TestOneLine: the multi-line errors of go-multierror (Vault, Nomad and
// Consul bodies) and errors.Join read as one line joined with "; ",
// never with the '?' that Clean puts for a newline or a tab; escape
// sequences are still cleaned.
func TestOneLine(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"multierror of one", "1 error occurred:\n\t* Put \"http://127.0.0.1:1/v1/acl/token\": dial tcp 127.0.0.1:1: connect: connection refused\n\n",
			`Put "http://127.0.0.1:1/v1/acl/token": dial tcp 127.0.0.1:1: connect: connection refused`},
		{"multierror of two", "2 errors occurred:\n\t* a\n\t* b\n\n", "a; b"},
		{"errors.Join", "could not a\ncould not b", "could not a; could not b"},
		{"CRLF", "a\r\nb", "a; b"},
		{"one line", "permission denied", "permission denied"},
		{"escape kept out", "1 error occurred:\n\t* \x1b]0;owned\x07x\n", "?]0;owned?x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := OneLine(tc.in); got != tc.want {
				t.Errorf("OneLine(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
