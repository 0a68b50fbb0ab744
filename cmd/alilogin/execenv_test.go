package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/envcontract"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/shellenv"
	"github.com/alisw/alilogin/internal/store"
)

// execChild is the environment runExec gives its child.
func execChild(cfg *config.Config, rec *store.Record, kinds []store.Kind, environ []string) []string {
	return childEnv(environ, withNoProxy(environ, envVars(cfg, rec, kinds, environ)), rec.Profile)
}

var allKinds = []store.Kind{store.Vault, store.Nomad, store.Consul}

func threeServers() (*config.Config, *store.Record) {
	now := time.Now()
	cfg := &config.Config{Vault: config.Server{Addr: "http://vault.example:8200"}, Nomad: config.Server{Addr: "https://nomad.example:4646"},
		Consul: config.Server{Addr: "https://consul.example:8501"}}
	rec := &store.Record{Profile: "ci",
		Vault:  &store.Token{Secret: secret.New("hvs.bound"), ExpiresAt: now.Add(time.Hour)},
		Nomad:  &store.Token{Secret: secret.New("nomad-secret"), ExpiresAt: now.Add(time.Hour)},
		Consul: &store.Token{Secret: secret.New("consul-secret"), ExpiresAt: now.Add(time.Hour)}}
	return cfg, rec
}

// TestExecChildHasNoRerouteVariable: for every variable of the
// environment contract that would send a token elsewhere, or check its
// server more weakly, an exec child that gets the tokens does not
// inherit it (BAO_* too, set or empty), while the
// rest of the environment stays.
func TestExecChildHasNoRerouteVariable(t *testing.T) {
	cfg, rec := threeServers()
	names := []string{"BAO_ADDR", "BAO_TOKEN", "BAO_AGENT_ADDR", "BAO_PROXY_ADDR", "BAO_SKIP_VERIFY"}
	for _, r := range envcontract.Rules {
		if r.Class == envcontract.Reroute && !r.Prefix {
			names = append(names, r.Name)
		}
	}
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			for _, val := range []string{"http://elsewhere.example:8200", ""} {
				environ := []string{"PATH=/bin", n + "=" + val, "GIT_DIR=keep"}
				got := execChild(cfg, rec, allKinds, environ)
				if slices.ContainsFunc(got, func(kv string) bool { return strings.HasPrefix(kv, n+"=") }) {
					t.Errorf("the child inherits %s=%q: %q", n, val, got)
				}
				if !slices.Contains(got, "GIT_DIR=keep") || !slices.Contains(got, "VAULT_TOKEN=hvs.bound") {
					t.Errorf("child env %q", got)
				}
			}
		})
	}
}

// TestExecChildKeepsProxiesAndBypassesThem: HTTP_PROXY, HTTPS_PROXY and
// ALL_PROXY stay for git and curl, in both cases; NO_PROXY and no_proxy
// keep what they listed and gain the hosts of the servers whose tokens
// the child gets, so that no token goes through the proxy.
func TestExecChildKeepsProxiesAndBypassesThem(t *testing.T) {
	cfg, rec := threeServers()
	environ := []string{"HTTP_PROXY=http://proxy:3128", "https_proxy=http://proxy:3128", "ALL_PROXY=socks5://proxy:1080", "NO_PROXY=.cern.ch"}
	got := execChild(cfg, rec, allKinds, environ)
	for _, want := range append(environ[:3:3], "NO_PROXY=.cern.ch,vault.example,nomad.example,consul.example", "no_proxy=.cern.ch,vault.example,nomad.example,consul.example") {
		if !slices.Contains(got, want) {
			t.Errorf("no %s in the child's environment %q", want, got)
		}
	}
	got = execChild(cfg, rec, []store.Kind{store.Consul}, nil)
	if !slices.Contains(got, "NO_PROXY=consul.example") || slices.ContainsFunc(got, func(kv string) bool { return strings.Contains(kv, "vault.example") }) {
		t.Errorf("--for consul: the child's environment %q; want consul.example alone in NO_PROXY", got)
	}
}

// TestExecChildGODEBUGWithoutHTTP2Debug: GODEBUG=http2debug=1 or 2 would
// make a Go CLI print its X-Vault-Token header or its request frames:
// exec and env take http2debug out and keep the other settings.
func TestExecChildGODEBUGWithoutHTTP2Debug(t *testing.T) {
	cfg, rec := threeServers()
	for _, c := range []struct{ in, want string }{
		{"http2debug=2", ""},
		{"http2debug=1", ""},
		{"gctrace=1,http2debug=2,madvdontneed=1", "GODEBUG=gctrace=1,madvdontneed=1"},
		{"gctrace=1", "GODEBUG=gctrace=1"},
	} {
		environ := []string{"GODEBUG=" + c.in}
		got := execChild(cfg, rec, []store.Kind{store.Vault}, environ)
		i := slices.IndexFunc(got, func(kv string) bool { return strings.HasPrefix(kv, "GODEBUG=") })
		if (i < 0) != (c.want == "") || i >= 0 && got[i] != c.want {
			t.Errorf("GODEBUG=%s: the child's environment %q, want %q", c.in, got, c.want)
		}
		vars := envVars(cfg, rec, []store.Kind{store.Vault}, environ)
		var b strings.Builder
		if err := shellenv.Write(&b, shellenv.Sh, vars); err != nil {
			t.Fatal(err)
		}
		line := "unset GODEBUG;"
		if c.want != "" {
			line = "export GODEBUG='" + strings.TrimPrefix(c.want, "GODEBUG=") + "';"
		}
		if strings.Contains(b.String(), "http2debug") || strings.Contains(c.in, "http2debug") != strings.Contains(b.String(), line) {
			t.Errorf("env with GODEBUG=%s printed\n%s", c.in, b.String())
		}
	}
}
