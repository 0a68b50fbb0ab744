package apiclient

import (
	"strings"
	"testing"
)

// TestMaskPEMKeys: a PEM private key in an error text is masked whole,
// with real or JSON-escaped newlines, cut off or not; certificates and
// other text stay.
func TestMaskPEMKeys(t *testing.T) {
	const key = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIKEYMATERIAL\n-----END EC PRIVATE KEY-----\n"
	const cert = "-----BEGIN CERTIFICATE-----\nMIIBCERT\n-----END CERTIFICATE-----"
	for _, tc := range []struct{ in, want string }{
		{"bad: " + key + "done", "bad: [REDACTED]\ndone"},
		{"bad: " + strings.ReplaceAll(key, "\n", `\n`) + " done", `bad: [REDACTED]\n done`},
		{"cut: -----BEGIN PRIVATE KEY-----\nMIGHAgEAKEY", "cut: [REDACTED]"},
		{"rsa -----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", "rsa [REDACTED]"},
		{cert, cert},
		{"-----BEGIN nothing", "-----BEGIN nothing"},
	} {
		if got := MaskPEMKeys(tc.in); got != tc.want || strings.Contains(got, "KEYMATERIAL") {
			t.Errorf("MaskPEMKeys(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}
