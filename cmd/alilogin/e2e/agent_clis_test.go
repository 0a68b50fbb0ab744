package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/agent"
	"github.com/alisw/alilogin/internal/teststack"
)

// agentJob is a raw_exec batch job that prints a numbered line each
// second for as long as it runs.
const agentJob = `job "agentjob" {
  datacenters = ["dc1"]
  type = "batch"
  group "g" {
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args = ["-c", "i=0; while true; do echo line-$i; i=$((i+1)); sleep 1; done"]
      }
    }
  }
}
`

// runAgentJob submits agentJob with the real nomad CLI through the
// agent and returns the id of its running allocation.
func runAgentJob(t *testing.T, ctx context.Context, au *agentUser) string {
	t.Helper()
	job := writeTestFile(t, t.TempDir(), "agentjob.nomad.hcl", []byte(agentJob))
	if p := au.exec(t, "nomad", "job", "run", job); p.code() != 0 {
		t.Fatalf("exec --agent -- nomad job run: exit %d\nstdout:\n%s\nstderr:\n%s", p.code(), p.stdout.String(), p.stderr.String())
	}
	var alloc string
	err := teststack.WaitUntil(ctx, "the job's allocation to run", func() bool {
		var allocs []struct{ ID, ClientStatus string }
		if err := au.m.nomad.Client().Do(ctx, "GET", "/v1/job/agentjob/allocations", nil, &allocs); err != nil {
			return false
		}
		for _, a := range allocs {
			if a.ClientStatus == "running" {
				alloc = a.ID
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatal(err)
	}
	return alloc
}

// TestAgentRealCLIs: the real nomad, consul and vault CLIs, given only
// the agent's addresses and gates by `exec --agent` (no token, no
// certificate), work against a Nomad and a Consul that require client
// certificates: a job submitted and monitored (blocking queries), its
// log followed (a stream), a command run in its allocation (a
// websocket), KV written and read in Consul, a blocking query held for
// its whole wait, a secret read from Vault and the token looked up.
func TestAgentRealCLIs(t *testing.T) {
	au, ctx := newAgentUserFor(t, 4*time.Minute)

	alloc := runAgentJob(t, ctx, au)

	// nomad alloc logs -f: a stream, read as it comes.
	logs := followLogs(t, au, alloc)

	// nomad alloc exec: a websocket through the agent.
	if p := au.exec(t, "nomad", "alloc", "exec", "-i=false", "-t=false", "-task", "t", alloc, "/bin/echo", "hello-through-the-agent"); p.code() != 0 || !strings.Contains(p.stdout.String(), "hello-through-the-agent") {
		t.Errorf("nomad alloc exec: exit %d\nstdout:\n%s\nstderr:\n%s", p.code(), p.stdout.String(), p.stderr.String())
	}

	// consul kv put/get.
	if p := au.exec(t, "consul", "kv", "put", "agent/key", "consul-value-through-the-agent"); p.code() != 0 {
		t.Errorf("consul kv put: exit %d\n%s\n%s", p.code(), p.stdout.String(), p.stderr.String())
	}
	if p := au.exec(t, "consul", "kv", "get", "agent/key"); p.code() != 0 || strings.TrimSpace(p.stdout.String()) != "consul-value-through-the-agent" {
		t.Errorf("consul kv get: exit %d\n%s\n%s", p.code(), p.stdout.String(), p.stderr.String())
	}

	// A blocking query, with the gate of env --agent: held by Consul
	// through the agent for its wait, then answered.
	g := au.gates(t)
	req, _ := http.NewRequestWithContext(ctx, "GET", g["CONSUL_HTTP_ADDR"]+"/v1/kv/agent/key", nil)
	req.Header.Set("X-Consul-Token", g["CONSUL_HTTP_TOKEN"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	index := resp.Header.Get("X-Consul-Index")
	if resp.StatusCode != 200 || index == "" {
		t.Fatalf("GET /v1/kv/agent/key through the agent: %d, index %q", resp.StatusCode, index)
	}
	const wait = 3 * time.Second
	req, _ = http.NewRequestWithContext(ctx, "GET", g["CONSUL_HTTP_ADDR"]+"/v1/kv/agent/key?index="+index+"&wait="+strconv.Itoa(int(wait.Seconds()))+"s", nil)
	req.Header.Set("X-Consul-Token", g["CONSUL_HTTP_TOKEN"])
	start := time.Now()
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if held := time.Since(start); resp.StatusCode != 200 || held < wait-500*time.Millisecond {
		t.Errorf("blocking query through the agent: %d after %s; want 200 after its wait of %s", resp.StatusCode, held, wait)
	}

	// vault kv get, vault token lookup.
	if p := au.exec(t, "vault", "kv", "get", "-mount="+au.kv, "-field=password", "app/db"); p.code() != 0 || strings.TrimSpace(p.stdout.String()) != "kv-value-through-the-agent" {
		t.Errorf("vault kv get: exit %d\n%s\n%s", p.code(), p.stdout.String(), p.stderr.String())
	}
	if p := au.exec(t, "vault", "token", "lookup", "-format=json"); p.code() != 0 {
		t.Errorf("vault token lookup: exit %d\n%s\n%s", p.code(), p.stdout.String(), p.stderr.String())
	} else {
		var l struct{ Data struct{ Policies []string } }
		if err := json.Unmarshal([]byte(p.stdout.String()), &l); err != nil || len(l.Data.Policies) == 0 {
			t.Errorf("vault token lookup: %v\n%s", err, p.stdout.String())
		}
		au.noSecret(t, "vault token lookup through the agent", p.stdout.String()+p.stderr.String())
	}
	// The token self-lookups of Nomad and Consul work, without the
	// SecretID (internal/agent/guard blanks it).
	for _, args := range [][]string{{"nomad", "acl", "token", "self"}, {"consul", "acl", "token", "read", "-self"}} {
		p := au.exec(t, args...)
		if p.code() != 0 || !strings.Contains(p.stdout.String(), "Accessor") {
			t.Errorf("%s: exit %d\n%s\n%s", strings.Join(args, " "), p.code(), p.stdout.String(), p.stderr.String())
		}
		au.noSecret(t, strings.Join(args, " ")+" through the agent", p.stdout.String()+p.stderr.String())
	}
	// A request that would hand out a real token is refused by the agent.
	if p := au.exec(t, "vault", "read", "-format=json", au.m.nomadMount+"/creds/"+au.m.profile); p.code() == 0 {
		t.Errorf("vault read %s/creds/%s through the agent succeeded:\n%s", au.m.nomadMount, au.m.profile, p.stdout.String())
	} else {
		au.noSecret(t, "vault read nomad creds through the agent", p.stdout.String()+p.stderr.String())
	}

	// The stream is still flowing after all this.
	waitLogLines(t, logs, strings.Count(logs.stdout.String(), "line-")+1)

	// The audit log: a line per request, none with a secret, a gate or a
	// query value.
	b, err := os.ReadFile(filepath.Join(au.agentD, agent.AuditName))
	if err != nil {
		t.Fatal(err)
	}
	au.noSecret(t, "the audit log", string(b))
	for k, v := range g {
		if strings.HasSuffix(k, "_TOKEN") && strings.Contains(string(b), v) {
			t.Errorf("the audit log holds the gate of %s", k)
		}
	}
	if strings.Contains(string(b), "index=") || !strings.Contains(string(b), `"path":"/v1/kv/agent/key"`) {
		t.Errorf("the audit log lacks the blocking query's path, or holds its query")
	}
	if fi, err := os.Stat(filepath.Join(au.agentD, agent.AuditName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the audit log's mode: %v %v", fi.Mode().Perm(), err)
	}
	withPID := strings.Count(string(b), `"pid":`)
	t.Logf("MEASURE: %d audit lines, %d with the client's pid", strings.Count(string(b), "\n"), withPID)

	st := au.status(t)
	if len(st.Profiles) != 1 || st.Profiles[0].Name != au.m.profile || st.Profiles[0].Requests == 0 || st.Profiles[0].Gates == 0 {
		t.Errorf("agent status: %+v", st)
	}
}

// followLogs starts `nomad alloc logs -f` of alloc's task through the
// agent (exec --agent) and waits for its first two lines.
func followLogs(t *testing.T, au *agentUser, alloc string) *proc {
	t.Helper()
	logs := au.start(t, "exec", "--agent", "--profile", au.m.profile, "--", "nomad", "alloc", "logs", "-f", alloc, "t")
	waitLogLines(t, logs, 2)
	return logs
}

// waitLogLines waits until p's stdout has n lines of agentJob's log
// (`nomad alloc logs -f` may start after its first lines).
func waitLogLines(t *testing.T, p *proc, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	line := regexp.MustCompile(`(?m)^line-[0-9]+$`)
	if err := teststack.WaitUntil(ctx, fmt.Sprintf("%d log lines on stdout", n), func() bool { return len(line.FindAllString(p.stdout.String(), -1)) >= n }); err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, p.stdout.String(), p.stderr.String())
	}
}
