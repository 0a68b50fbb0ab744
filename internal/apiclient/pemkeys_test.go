package apiclient

import (
	"net/url"
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

// TestMaskPEMKeysPercentEncoded: a body quoted back percent- or
// form-encoded ("-----BEGIN+EC+PRIVATE+KEY-----%5Cn...") is decoded before
// the PEM armour is looked for, so its key is masked too.
func TestMaskPEMKeysPercentEncoded(t *testing.T) {
	const key = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIHAc8Ts4esLq3Lfzh/zAOyUPbsTTVObuysnVoGoW5zzcoAoGCCqGSM49\n-----END EC PRIVATE KEY-----\n"
	for _, in := range []string{
		"blocked: " + url.QueryEscape(`{"private_key":"`+strings.ReplaceAll(key, "\n", `\n`)+`"}`),
		"blocked: " + url.PathEscape(key),
		"blocked: " + strings.ReplaceAll(url.QueryEscape(key), "%2F", "%2f"),
	} {
		out := MaskPEMKeys(in)
		if strings.Contains(out, "MHcCAQEEIHAc8Ts4") || strings.Contains(out, "OyUPbsTTVObuysnV") {
			t.Errorf("MaskPEMKeys(%q) = %q: the key is still there", in, out)
		}
		if !strings.Contains(out, "blocked: ") {
			t.Errorf("MaskPEMKeys(%q) = %q: the rest is lost", in, out)
		}
	}
}
