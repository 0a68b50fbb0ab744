package oidc

// Review 9a: a man in the middle writes on the terminal through a TLS
// error.

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/hostile"
)

// hostileCertServer is a TLS server whose certificate names, as its DNS
// SAN, text with escape sequences.
func hostileCertServer(t *testing.T) *hostile.Server {
	t.Helper()
	s, err := hostile.NewCertNameServer(http.NotFoundHandler(), "sso.example"+hostile.EscTitle+hostile.EscClear+"\r")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestSSOTLSErrorClean: anyone on the path to the SSO (the network
// adversary of the threat model; no SSO needed) answers with a
// certificate whose SAN carries escape sequences. Go's x509 HostnameError
// quotes the SANs raw ("certificate is valid for ..."), and ssoError
// passes the error on uncleaned: `alilogin login`, `token` (step 4) and
// `logout` print it on stderr. (apiclient cleans its transport errors;
// the SSO client does not.)
func TestSSOTLSErrorClean(t *testing.T) {
	s := hostileCertServer(t)
	issuer := s.LocalhostURL()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := New(ctx, Config{Issuer: issuer, ClientID: "cli"})
	if err == nil {
		t.Fatal("no error")
	}
	if !strings.Contains(err.Error(), "x509") {
		t.Fatalf("want the certificate (x509) error, got: %v", err)
	}
	noControls(t, "the TLS error", err.Error())
}
