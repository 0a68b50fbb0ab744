package apiclient

import (
	"net/url"
	"strings"
	"testing"
)

// TestReview12bMaskPEMKeysPercentEncoded: a body quoted back percent- or
// form-encoded ("-----BEGIN+EC+PRIVATE+KEY-----%5Cn...") is decoded before
// the PEM armour is looked for, so its key is masked too.
func TestReview12bMaskPEMKeysPercentEncoded(t *testing.T) {
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
