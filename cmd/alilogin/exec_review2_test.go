package main

import (
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/session"
)

// TestReview2LoginSummarySaysNoNomadAddress: login mints no Nomad or
// Consul token when no address of the server is configured (renew.Login
// is not asked for it); its summary says so rather than leaving the line out.
func TestReview2LoginSummarySaysNoNomadAddress(t *testing.T) {
	cfg := &config.Config{Vault: config.Server{Addr: "https://vault.cern.example:8200"}, Consul: config.Server{Addr: "https://consul.cern.example:8501"}}
	s := &loginSummary{User: "alice", Profile: "ci", Skipped: session.SkippedTokens(cfg, false, false)}
	var b strings.Builder
	s.write(&b, time.Now())
	if !strings.Contains(b.String(), "nomad:  none: no Nomad address configured (set NOMAD_ADDR") || strings.Contains(b.String(), "consul:") {
		t.Errorf("summary:\n%s\nwant a nomad line saying no address is configured, and no consul line", b.String())
	}
	if got := session.SkippedTokens(cfg, true, false); got != nil {
		t.Errorf("a profile that grants no Nomad token: skipped %v, want none", got)
	}
}
