package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/agent"
	"github.com/alisw/alilogin/internal/clientcert"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/teststack"
	"github.com/alisw/alilogin/internal/testutil"
)

// agentUser is a user logged in to a profile of an mTLS stack (Nomad
// and Consul requiring client certificates from Vault PKI) that may
// write jobs and KV and read a Vault KV mount, with an agent directory
// of its own (ALILOGIN_AGENT_DIR: each test its own agent) and the real
// CLIs on PATH.
type agentUser struct {
	*user
	m      *mtlsStack
	rec    *store.Record
	kv     string // the Vault KV v2 mount the profile reads
	agentD string
}

const (
	agentNomadRules = `namespace "default" {
  policy = "write"
  capabilities = ["alloc-node-exec"]
}` + "\n" + `node { policy = "read" }`
	agentConsulRules = `key_prefix "" { policy = "write" }` + "\n" + `node_prefix "" { policy = "read" }` + "\n" + `agent_prefix "" { policy = "read" }`
)

// newAgentUserFor is newAgentUser with the test's context: it ends after
// d, or when the test ends, after the test's other cleanups.
func newAgentUserFor(t *testing.T, d time.Duration) (*agentUser, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return newAgentUser(t, ctx), ctx
}

// agentDir gives u an agent directory of its own (agent.DirVar), short
// enough for the agent's socket, and returns it.
func (u *user) agentDir(t *testing.T) string {
	t.Helper()
	dir := testutil.ShortTempDir(t, "agt", 0)
	u.env[agent.DirVar] = dir
	return dir
}

func newAgentUser(t *testing.T, ctx context.Context) *agentUser {
	t.Helper()
	n := nmtls.Load() + 1
	kv := fmt.Sprintf("kv-agent%d", n)
	pol := fmt.Sprintf("agent-kv%d", n)
	if err := stack.EnsureKV(ctx, kv, 2); err != nil {
		t.Fatal(err)
	}
	if err := stack.Vault.Client().Do(ctx, "PUT", "/v1/sys/policies/acl/"+pol,
		map[string]any{"policy": fmt.Sprintf(`path "%s/data/*" { capabilities = ["read"] }`, kv)}, nil); err != nil {
		t.Fatal(err)
	}
	if err := stack.PutKV(ctx, kv, 2, "app/db", map[string]any{"password": "kv-value-through-the-agent"}); err != nil {
		t.Fatal(err)
	}
	m := startMTLSWith(t, ctx, time.Hour, mtlsRules{nomad: agentNomadRules, consul: agentConsulRules, vault: []string{pol}})
	u := m.userFor(t)
	u.env["PATH"] = teststack.BinDir() + string(os.PathListSeparator) + u.env["PATH"]
	dir := u.agentDir(t)
	au := &agentUser{user: u, m: m, kv: kv, agentD: dir}
	loginOK(t, ctx, u, m.user, m.pw, "login", "--profile", m.profile)
	st, err := store.Open("", u.getenv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if au.rec, err = st.Get(m.profile); err != nil || au.rec.ClientCert == nil || au.rec.Nomad == nil || au.rec.Consul == nil {
		t.Fatalf("record %+v, %v; want Nomad and Consul tokens and a client certificate", au.rec, err)
	}
	// Every agent a test starts is stopped with it.
	t.Cleanup(func() { u.run(t, "agent", "stop") })
	return au
}

// exec runs `alilogin exec --agent --profile P -- args...` to the end.
func (au *agentUser) exec(t *testing.T, args ...string) *proc {
	t.Helper()
	return au.run(t, append([]string{"exec", "--agent", "--profile", au.m.profile, "--"}, args...)...)
}

// gates is `env --agent --shell json`: the variables it sets.
func (au *agentUser) gates(t *testing.T) map[string]string {
	t.Helper()
	p := au.ok(t, "env", "--agent", "--profile", au.m.profile, "--shell", "json")
	var vars map[string]*string
	if err := json.Unmarshal([]byte(p.stdout.String()), &vars); err != nil {
		t.Fatalf("env --agent --shell json: %v\n%s", err, p.stdout.String())
	}
	out := map[string]string{}
	for k, v := range vars {
		if v != nil {
			out[k] = *v
		}
	}
	return out
}

// status is `agent status --json`.
func (au *agentUser) status(t *testing.T) agent.Status {
	t.Helper()
	p := au.ok(t, "agent", "status", "--json")
	var st agent.Status
	if err := json.Unmarshal([]byte(p.stdout.String()), &st); err != nil {
		t.Fatalf("agent status --json: %v\n%s", err, p.stdout.String())
	}
	return st
}

// secrets are every secret value of the login's record, and the paths
// of the certificate's key, for scans.
func (au *agentUser) secrets() map[string]string {
	r := au.rec
	out := map[string]string{
		"Vault token": r.Vault.Secret.Reveal(), "Nomad token": r.Nomad.Secret.Reveal(), "Consul token": r.Consul.Secret.Reveal(),
		"refresh token": r.RefreshToken.Reveal(), "client key": r.ClientCert.Key.Reveal(),
	}
	// The key's PEM body lines, in case it shows without its armour.
	for i, l := range strings.Split(r.ClientCert.Key.Reveal(), "\n") {
		if len(l) > 40 && !strings.HasPrefix(l, "-----") {
			out[fmt.Sprintf("client key line %d", i)] = l
		}
	}
	for _, d := range r.CertFileDirs() {
		out["key path in "+d] = filepath.Join(d, clientcert.KeyFile)
	}
	return out
}

// noSecret fails when text holds a secret of the record.
func (au *agentUser) noSecret(t *testing.T, what, text string) {
	t.Helper()
	for name, v := range au.secrets() {
		if v != "" && strings.Contains(text, v) {
			t.Errorf("%s holds the %s", what, name)
		}
	}
}
