package e2e

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/teststack"
)

var gateRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestAgentEnvironHoldsNoSecret: the environment of `exec --agent`'s
// child, read from /proc/<pid>/environ, and everything `env --agent`
// prints hold none of the record's secrets (the Vault, Nomad and Consul
// tokens, the refresh token, the client certificate's key) nor the
// key's path, and no certificate or key variable: only the agent's
// addresses and gates, UUID-shaped.
func TestAgentEnvironHoldsNoSecret(t *testing.T) {
	au, ctx := newAgentUserFor(t, 3*time.Minute)

	// A child that stays: `exec` replaces alilogin with it (same pid).
	p := au.start(t, "exec", "--agent", "--profile", au.m.profile, "--for", "vault,nomad,consul", "--", "sleep", "300")
	pid := p.cmd.Process.Pid
	var environ string
	err := teststack.WaitUntil(ctx, "exec to run sleep", func() bool {
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if !strings.HasSuffix(exe, "/sleep") {
			return false
		}
		// Right after the exec the new image's environment is not set up
		// yet and reads empty: wait for it.
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		environ = string(b)
		return err == nil && strings.Contains(environ, "PATH=")
	})
	if err != nil {
		t.Fatalf("%v\nstderr:\n%s", err, p.stderr.String())
	}
	vars := map[string]string{}
	for _, kv := range strings.Split(environ, "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	au.noSecret(t, "/proc/<pid>/environ of exec --agent's child", environ)
	checkAgentVars(t, "exec --agent's child", vars)

	// env --agent, in each shell's syntax.
	for _, sh := range []string{"sh", "fish", "json"} {
		ep := au.ok(t, "env", "--agent", "--profile", au.m.profile, "--shell", sh)
		au.noSecret(t, "env --agent --shell "+sh, ep.stdout.String()+ep.stderr.String())
	}
	checkAgentVars(t, "env --agent", au.gates(t))
}

// checkAgentVars: each server's address is an agent route on loopback,
// its token a gate, and no certificate, key or CA variable is set.
func checkAgentVars(t *testing.T, what string, vars map[string]string) {
	t.Helper()
	for _, s := range []struct{ addr, token string }{{"VAULT_ADDR", "VAULT_TOKEN"}, {"NOMAD_ADDR", "NOMAD_TOKEN"}, {"CONSUL_HTTP_ADDR", "CONSUL_HTTP_TOKEN"}} {
		if !strings.HasPrefix(vars[s.addr], "http://127.0.0.1:") {
			t.Errorf("%s: %s=%q, want the agent's route", what, s.addr, vars[s.addr])
		}
		if !gateRE.MatchString(vars[s.token]) {
			t.Errorf("%s: %s is no gate (%d characters)", what, s.token, len(vars[s.token]))
		}
	}
	for k := range vars {
		if strings.HasSuffix(k, "_CLIENT_KEY") || strings.HasSuffix(k, "_CLIENT_CERT") || strings.HasSuffix(k, "_CACERT") || k == "CONSUL_HTTP_SSL" {
			t.Errorf("%s: %s is set", what, k)
		}
	}
}

// TestAgentModeIsTheProfileDefault: `use_agent = true` in the profile's
// block of the config file makes env (and exec) give gates without
// --agent; --agent=false gives the tokens as before.
func TestAgentModeIsTheProfileDefault(t *testing.T) {
	au, _ := newAgentUserFor(t, 3*time.Minute)
	au.writeConfig(t, "profile \""+au.m.profile+"\" {\n  use_agent = true\n}\n")
	p := au.ok(t, "env", "--profile", au.m.profile, "--shell", "sh")
	if out := p.stdout.String(); !strings.Contains(out, "NOMAD_ADDR='http://127.0.0.1:") || strings.Contains(out, au.rec.Nomad.Secret.Reveal()) {
		t.Errorf("env with use_agent = true gives no gates:\n%s", out)
	}
	au.noSecret(t, "env with use_agent = true", p.stdout.String())
	if e := au.run(t, "exec", "--profile", au.m.profile, "--", "sh", "-c", `echo "$NOMAD_ADDR"; nomad job status >/dev/null && echo NOMAD-OK`); e.code() != 0 ||
		!strings.Contains(e.stdout.String(), "http://127.0.0.1:") || !strings.Contains(e.stdout.String(), "NOMAD-OK") {
		t.Errorf("exec with use_agent = true: exit %d\n%s\n%s", e.code(), e.stdout.String(), e.stderr.String())
	}
	p = au.ok(t, "env", "--agent=false", "--profile", au.m.profile, "--shell", "sh")
	if out := p.stdout.String(); !strings.Contains(out, "NOMAD_TOKEN="+shq(au.rec.Nomad.Secret.Reveal())) {
		t.Errorf("env --agent=false does not give the token")
	}
}
