package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/alisw/alilogin/bench/internal/benchstack"
	"github.com/alisw/alilogin/internal/agent"
	"github.com/alisw/alilogin/internal/clientcert"
	"github.com/alisw/alilogin/internal/plan"
	"github.com/alisw/alilogin/internal/policy"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/teststack"
)

func main() {
	calls := flag.Int("calls", 1000, "A1 calls of each kind (direct, through the agent)")
	runs := flag.Int("runs", 21, "A2 runs of nomad job status of each kind")
	logMiB := flag.Int("logmib", 64, "A3 size of the streamed log in MiB")
	streams := flag.Int("streams", 5, "A3 runs of nomad alloc logs of each kind")
	blocking := flag.Int("blocking", 500, "A4 concurrent Consul blocking queries through the agent")
	wait := flag.Duration("wait", 10*time.Second, "A4 the blocking queries' wait")
	hold := flag.Bool("hold", false, "after the setup, write the direct and the agent's environments to files, print their names and wait for an interrupt (to try things by hand)")
	agentEnv := flag.String("agent-env", "", "extra environment of the agent, comma-separated K=V (e.g. GOMAXPROCS=1), to compare settings")
	only := flag.String("only", "", "run only these parts, comma-separated: A1, A2, A3, A4")
	flag.Parse()
	b := &bench{calls: *calls, runs: *runs, logMiB: *logMiB, streams: *streams, blocking: *blocking, wait: *wait, only: map[string]bool{}, hold: *hold, agentEnv: map[string]string{}}
	for _, kv := range strings.Split(*agentEnv, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			b.agentEnv[k] = v
		}
	}
	for _, p := range strings.Split(*only, ",") {
		if p = strings.ToUpper(strings.TrimSpace(p)); p != "" {
			if !slices.Contains([]string{"A1", "A2", "A3", "A4"}, p) {
				fmt.Fprintf(os.Stderr, "agentbench: -only: unknown part %q (want A1, A2, A3, A4)\n", p)
				os.Exit(2)
			}
			b.only[p] = true
		}
	}
	if err := b.run(); err != nil {
		fmt.Fprintln(os.Stderr, "agentbench:", err)
		os.Exit(1)
	}
}

type bench struct {
	calls, runs, logMiB, streams, blocking int
	wait                                   time.Duration
	only                                   map[string]bool // empty: all
	hold                                   bool
	agentEnv                               map[string]string

	ctx    context.Context
	st     *teststack.Stack
	dir    string
	bin    string
	envm   map[string]string
	nomad  *teststack.Nomad
	consul *teststack.Consul
	pki    *teststack.VaultPKI
	// direct: the real tokens and certificate paths (alilogin env);
	// gated: the agent's addresses and gates (alilogin env --agent).
	direct, gated map[string]string
	agentPID      int
	failed        bool
}

const profile = "bench"

func (b *bench) run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	b.ctx = ctx
	var err error
	if b.dir, err = os.MkdirTemp("", "agentbench-"); err != nil {
		return err
	}
	defer os.RemoveAll(b.dir)
	if b.bin, err = benchstack.Build(b.dir); err != nil {
		return err
	}
	if b.st, err = benchstack.Start(ctx); err != nil {
		return err
	}
	defer b.st.Close()
	if err := b.setup(); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	defer func() { _, _ = b.alilogin(nil, "agent", "stop") }()
	fmt.Printf("alilogin agent bench: stack up in %s, %d CPUs; Nomad %s and Consul %s over TLS with client certificates\n",
		b.st.StartTime.Round(time.Millisecond), benchstack.CPUs(), b.nomad.Addr, b.consul.Addr)
	fmt.Printf("agent pid %d; protocols towards the servers: %s\n\n", b.agentPID, b.protocols())

	if b.hold {
		return b.holdOn()
	}
	job, alloc, err := b.job()
	// Nomad leaves a job's tasks running when it stops: end the job
	// before the stack goes, or its executor and task outlive the bench.
	defer b.stopJob(job, alloc)
	if err != nil {
		return fmt.Errorf("the log job: %w", err)
	}
	for i, part := range []func() error{
		b.a1,
		func() error { return b.a2(job) },
		func() error { return b.a3(alloc) },
		b.a4,
	} {
		if len(b.only) > 0 && !b.only[fmt.Sprintf("A%d", i+1)] {
			continue
		}
		if err := part(); err != nil {
			return err
		}
	}
	if b.failed {
		return errors.New("a target was missed (see above)")
	}
	return nil
}

// mark prints pass or MISSED and remembers a miss.
func (b *bench) mark(ok bool) string {
	if ok {
		return "pass"
	}
	b.failed = true
	return "MISSED"
}

// setup makes a Nomad and a Consul that require client certificates from
// a Vault PKI mount, a profile for them as `broker apply` makes it (as
// the agent e2e tests' startMTLSWith does), a login of it (a refresh
// token, renewed by alilogin into Vault, Nomad and Consul tokens and a
// client certificate), and starts the agent.
func (b *bench) setup() error {
	ctx := b.ctx
	const pkiMount, nomadMount, consulMount = "pki-bench", "nomad-bench", "consul-bench"
	pki, err := b.st.EnablePKI(ctx, pkiMount)
	if err != nil {
		return err
	}
	b.pki = pki
	cert, key, err := pki.ServerCert(ctx, "servers")
	if err != nil {
		return err
	}
	st := &teststack.ServerTLS{CA: pki.CA, Cert: cert, Key: key}
	if b.nomad, err = b.st.StartNomad(ctx, st); err != nil {
		return err
	}
	if b.consul, err = b.st.StartConsul(ctx, st); err != nil {
		return err
	}
	v := b.st.Vault.Client()
	if err := b.st.EnsureMounts(ctx, nil, teststack.Mounts{}); err != nil {
		return err
	}
	pem := func(p string) string {
		data, err := os.ReadFile(p)
		if err != nil {
			panic(err) // our own files, just written
		}
		return string(data)
	}
	type call struct {
		method, path string
		body         any
	}
	np, cp := profile+"-nomad", profile+"-consul"
	for _, c := range []call{
		{"POST", "/v1/sys/mounts/" + nomadMount, map[string]any{"type": "nomad"}},
		{"POST", "/v1/" + nomadMount + "/config/access", map[string]any{"address": b.nomad.Addr, "token": b.nomad.ManagementToken,
			"ca_cert": pem(pki.CA), "client_cert": pem(cert), "client_key": pem(key)}},
		{"POST", "/v1/sys/mounts/" + consulMount, map[string]any{"type": "consul"}},
		{"POST", "/v1/" + consulMount + "/config/access", map[string]any{"address": strings.TrimPrefix(b.consul.Addr, "https://"), "scheme": "https",
			"token": b.consul.ManagementToken, "ca_cert": pem(pki.CA), "client_cert": pem(cert), "client_key": pem(key)}},
		{"POST", "/v1/" + nomadMount + "/role/" + profile, map[string]any{"policies": np, "type": "client"}},
		{"POST", "/v1/" + consulMount + "/roles/" + profile, map[string]any{"consul_policies": []string{cp}, "ttl": "1h"}},
	} {
		if err := v.Do(ctx, c.method, c.path, c.body, nil); err != nil {
			return fmt.Errorf("%s %s: %w", c.method, c.path, err)
		}
	}
	if err := b.nomad.Client().Do(ctx, "POST", "/v1/acl/policy/"+np, map[string]any{"Name": np,
		"Rules": `namespace "default" { policy = "write" }` + "\n" + `node { policy = "read" }`}, nil); err != nil {
		return err
	}
	if err := b.consul.Client().Do(ctx, "PUT", "/v1/acl/policy", map[string]any{"Name": cp,
		"Rules": `key_prefix "" { policy = "write" }`}, nil); err != nil {
		return err
	}
	pv := policy.Vault{JWTMount: "jwt", NomadMount: nomadMount, ConsulMount: consulMount, PKIMount: pkiMount}
	pp := policy.Profile{Name: profile, NomadPolicies: []string{np}, ConsulPolicies: []string{cp}, TTL: time.Hour, MaxTTL: 2 * time.Hour,
		ClientCert: policy.ClientCert{TTL: time.Hour}}
	if err := v.Do(ctx, "PUT", "/v1/sys/policies/acl/"+policy.ProfilePolicy(profile), map[string]any{"policy": plan.ProfilePolicyText(pv, pp)}, nil); err != nil {
		return err
	}
	var auths struct {
		Data map[string]struct{ Accessor string } `json:"data"`
	}
	if err := v.Do(ctx, "GET", "/v1/sys/auth", nil, &auths); err != nil {
		return err
	}
	role := map[string]any{}
	for k, val := range plan.PKIRoleFields(pp) {
		role[k] = val
	}
	role["allowed_domains"] = []string{plan.AliasTemplate(auths.Data["jwt/"].Accessor)}
	if err := v.Do(ctx, "POST", "/v1/"+pkiMount+"/roles/"+profile, role, nil); err != nil {
		return err
	}
	if err := v.Do(ctx, "POST", "/v1/auth/jwt/role/"+profile, map[string]any{
		"role_type": "jwt", "bound_audiences": []string{b.st.Hydra.ClientID}, "user_claim": "cern_upn", "groups_claim": "cern_roles",
		"bound_claims": map[string]any{"cern_roles": []string{"bench-users"}}, "token_policies": []string{policy.ProfilePolicy(profile)},
		"token_ttl": "1h", "token_max_ttl": "2h",
	}, nil); err != nil {
		return err
	}

	home := filepath.Join(b.dir, "home")
	rt := filepath.Join(b.dir, "run")
	agentDir := filepath.Join(b.dir, "agent")
	for _, d := range []string{home, rt, agentDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	b.envm = benchstack.Env(b.st, home)
	for k, v := range map[string]string{
		"XDG_RUNTIME_DIR":       rt,
		"PATH":                  teststack.BinDir() + string(os.PathListSeparator) + os.Getenv("PATH"),
		"NOMAD_ADDR":            b.nomad.Addr,
		"NOMAD_CACERT":          pki.CA,
		"CONSUL_HTTP_ADDR":      strings.TrimPrefix(b.consul.Addr, "https://"),
		"CONSUL_HTTP_SSL":       "true",
		"CONSUL_CACERT":         pki.CA,
		"ALILOGIN_PKI_MOUNT":    pkiMount,
		"ALILOGIN_NOMAD_MOUNT":  nomadMount,
		"ALILOGIN_CONSUL_MOUNT": consulMount,
		agent.DirVar:            agentDir,
	} {
		b.envm[k] = v
	}

	// The login: a record holding a refresh token; alilogin renews it.
	user := "bench-user"
	b.st.Hydra.AddUser(teststack.User{Username: user, Password: "pw", UPN: user, Roles: []string{"bench-users"}})
	tok, err := b.st.Hydra.Login(ctx, b.st.Hydra.ClientID, user, "pw")
	if err != nil {
		return err
	}
	s, err := store.Open("keyring", func(k string) string { return b.envm[k] }, nil)
	if err != nil {
		return err
	}
	if err := benchstack.SeedLogin(s, b.st, profile, user, tok.RefreshToken, b.st.Vault.Addr, b.nomad.Addr, b.consul.Addr); err != nil {
		return err
	}
	// The client certificate, signed as `alilogin login` signs it (a
	// renewal re-signs a record's certificate, it does not add one).
	vt, err := b.envJSON("env", "--profile", profile, "--for", "vault", "--shell", "json")
	if err != nil {
		return err
	}
	rec, err := s.Get(profile)
	if err != nil {
		return err
	}
	if rec.ClientCert, err = clientcert.Sign(ctx, v.WithToken(secret.New(vt["VAULT_TOKEN"])), pkiMount, profile, user, 0); err != nil {
		return err
	}
	if err := s.Put(rec); err != nil {
		return err
	}
	if b.direct, err = b.envJSON("env", "--profile", profile, "--for", "vault,nomad,consul", "--shell", "json"); err != nil {
		return err
	}
	if b.direct["NOMAD_CLIENT_KEY"] == "" || b.direct["NOMAD_TOKEN"] == "" {
		return fmt.Errorf("alilogin env gave no Nomad token or client certificate: %v", keys(b.direct))
	}
	if _, err := b.alilogin(b.agentEnv, "agent", "start"); err != nil {
		return err
	}
	if b.gated, err = b.envJSON("env", "--agent", "--profile", profile, "--shell", "json"); err != nil {
		return err
	}
	out, err := b.alilogin(nil, "agent", "status", "--json")
	if err != nil {
		return err
	}
	var status agent.Status
	if err := json.Unmarshal([]byte(out), &status); err != nil {
		return err
	}
	b.agentPID = status.PID
	return nil
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// environ is the base environment with over applied (an empty value
// unsets).
func (b *bench) environ(over map[string]string) []string {
	m := map[string]string{}
	for k, v := range b.envm {
		m[k] = v
	}
	for k, v := range over {
		m[k] = v
	}
	var out []string
	for k, v := range m {
		if v != "" {
			out = append(out, k+"="+v)
		}
	}
	return out
}

func (b *bench) alilogin(over map[string]string, args ...string) (string, error) {
	c := exec.CommandContext(b.ctx, b.bin, args...)
	c.Env = b.environ(over)
	var stderr strings.Builder
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		return string(out), fmt.Errorf("alilogin %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

func (b *bench) envJSON(args ...string) (map[string]string, error) {
	out, err := b.alilogin(nil, args...)
	if err != nil {
		return nil, err
	}
	var vars map[string]*string
	if err := json.Unmarshal([]byte(out), &vars); err != nil {
		return nil, fmt.Errorf("alilogin %s: %w", strings.Join(args, " "), err)
	}
	m := map[string]string{}
	for k, v := range vars {
		if v != nil {
			m[k] = *v
		} else {
			m[k] = ""
		}
	}
	return m, nil
}

// directClient is what a CLI given the real token uses: TLS to the
// server with the CA and the client certificate from the files
// alilogin env named. h2 lets Go negotiate HTTP/2 where the server
// offers it (the nomad and consul CLIs' transport, go-cleanhttp, does).
func (b *bench) directClient(h2 bool) (*http.Client, error) {
	pair, err := tls.LoadX509KeyPair(b.direct["NOMAD_CLIENT_CERT"], b.direct["NOMAD_CLIENT_KEY"])
	if err != nil {
		return nil, err
	}
	ca, err := os.ReadFile(b.pki.CA)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}},
		ForceAttemptHTTP2: h2, MaxIdleConnsPerHost: 100}
	return &http.Client{Transport: tr}, nil
}

// gatedClient talks to the agent's loopback routes (plain HTTP/1.1).
func gatedClient(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: 0}}
}

// protocols is what Go negotiates with each server when offered h2.
func (b *bench) protocols() string {
	c, err := b.directClient(true)
	if err != nil {
		return err.Error()
	}
	var out []string
	for name, u := range map[string]string{"nomad": b.nomad.Addr + "/v1/status/leader", "consul": b.consul.Addr + "/v1/status/leader"} {
		resp, err := c.Get(u)
		if err != nil {
			out = append(out, name+" "+err.Error())
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		out = append(out, name+" "+resp.Proto)
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

func get(c *http.Client, url, hdr, tok string) (int64, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set(hdr, tok)
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return n, err
	}
	if resp.StatusCode != http.StatusOK {
		return n, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return n, nil
}

func pct(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	i := int(p*float64(len(s))+0.5) - 1
	i = max(0, min(i, len(s)-1))
	return s[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d.Nanoseconds())/1e6) }

// a1: a small Nomad GET, direct (HTTP/1.1 kept alive, the real token and
// the client certificate) and through the agent (its gate), interleaved,
// the order swapped every call so that noise hits both.
func (b *bench) a1() error {
	dc, err := b.directClient(false)
	if err != nil {
		return err
	}
	gc := gatedClient(4)
	durl, gurl := b.nomad.Addr+"/v1/jobs", b.gated["NOMAD_ADDR"]+"/v1/jobs"
	one := func(direct bool) (time.Duration, error) {
		t0 := time.Now()
		var err error
		if direct {
			_, err = get(dc, durl, "X-Nomad-Token", b.direct["NOMAD_TOKEN"])
		} else {
			_, err = get(gc, gurl, "X-Nomad-Token", b.gated["NOMAD_TOKEN"])
		}
		return time.Since(t0), err
	}
	for range 50 { // warm-up: connections, the agent's first renewal check
		for _, d := range []bool{true, false} {
			if _, err := one(d); err != nil {
				return err
			}
		}
	}
	var dir, via []time.Duration
	for i := range b.calls {
		order := []bool{true, false}
		if i%2 == 1 {
			order = []bool{false, true}
		}
		for _, d := range order {
			t, err := one(d)
			if err != nil {
				return err
			}
			if d {
				dir = append(dir, t)
			} else {
				via = append(via, t)
			}
		}
	}
	p50, p99 := pct(via, 0.5)-pct(dir, 0.5), pct(via, 0.99)-pct(dir, 0.99)
	fmt.Printf("A1  small Nomad GET (GET /v1/jobs), %d calls each, interleaved, kept-alive connections:\n", b.calls)
	fmt.Printf("    direct        p50 %s  p99 %s\n", ms(pct(dir, 0.5)), ms(pct(dir, 0.99)))
	fmt.Printf("    agent         p50 %s  p99 %s\n", ms(pct(via, 0.5)), ms(pct(via, 0.99)))
	fmt.Printf("    added         p50 %s (target <= 0.300 ms: %s)  p99 %s (target <= 2.000 ms: %s)\n\n",
		ms(p50), b.mark(p50 <= 300*time.Microsecond), ms(p99), b.mark(p99 <= 2*time.Millisecond))
	return nil
}

// directCLIEnv is the environment of a CLI given the real tokens and
// certificate (what alilogin env prints); gatedCLIEnv the agent's.
func (b *bench) cliEnv(gated bool) []string {
	if gated {
		return b.environ(b.gated)
	}
	return b.environ(b.direct)
}

func (b *bench) cli(gated bool, stdout io.Writer, name string, args ...string) (time.Duration, error) {
	bin, err := teststack.Bin(name)
	if err != nil {
		return 0, err
	}
	c := exec.CommandContext(b.ctx, bin, args...)
	c.Env = b.cliEnv(gated)
	var stderr strings.Builder
	c.Stdout, c.Stderr = stdout, &stderr
	t0 := time.Now()
	err = c.Run()
	d := time.Since(t0)
	if err != nil {
		return d, fmt.Errorf("%s %s (agent %v): %v\n%s", name, strings.Join(args, " "), gated, err, stderr.String())
	}
	return d, nil
}

// job runs a raw_exec job that writes logMiB MiB to stdout, then waits;
// it returns the job's name and its allocation once the log is whole.
func (b *bench) job() (string, string, error) {
	const name = "benchlog"
	size := int64(b.logMiB) << 20
	spec := fmt.Sprintf(`job %q {
  datacenters = ["dc1"]
  type = "batch"
  group "g" {
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args = ["-c", "yes 'the quick brown fox jumps over the lazy dog, a log line of the agent bench' | head -c %d; sleep 3600"]
      }
      logs {
        max_files     = 2
        max_file_size = %d
      }
    }
  }
}
`, name, size, b.logMiB*2+10)
	f := filepath.Join(b.dir, "benchlog.nomad.hcl")
	if err := os.WriteFile(f, []byte(spec), 0o600); err != nil {
		return "", "", err
	}
	if _, err := b.cli(true, io.Discard, "nomad", "job", "run", "-detach", f); err != nil {
		return "", "", err
	}
	var alloc string
	err := teststack.WaitUntil(b.ctx, "the log job's log to be written", func() bool {
		var allocs []struct{ ID, ClientStatus string }
		if err := b.nomad.Client().Do(b.ctx, "GET", "/v1/job/"+name+"/allocations", nil, &allocs); err != nil {
			return false
		}
		for _, a := range allocs {
			if a.ClientStatus != "running" {
				continue
			}
			var fi struct{ Size int64 }
			if b.nomad.Client().Do(b.ctx, "GET", "/v1/client/fs/stat/"+a.ID+"?path=alloc/logs/t.stdout.0", nil, &fi) == nil && fi.Size >= size {
				alloc = a.ID
				return true
			}
		}
		return false
	})
	return name, alloc, err
}

// stopJob stops the log job and waits for its allocation's task to end
// (name and alloc are "" when there is no job or no allocation).
func (b *bench) stopJob(name, alloc string) {
	if name == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := b.nomad.Client()
	if err := c.Do(ctx, "DELETE", "/v1/job/"+name, nil, nil); err != nil {
		fmt.Fprintf(os.Stderr, "agentbench: could not stop the log job: %v\n", err)
		return
	}
	if alloc == "" {
		return
	}
	err := teststack.WaitUntil(ctx, "the log job's task to end", func() bool {
		var a struct{ ClientStatus string }
		err := c.Do(ctx, "GET", "/v1/allocation/"+alloc, nil, &a)
		return err == nil && a.ClientStatus != "running" && a.ClientStatus != "pending"
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "agentbench: %v\n", err)
	}
}

// a2: the whole `nomad job status JOB`, direct and through the agent.
func (b *bench) a2(job string) error {
	var dir, via []time.Duration
	for i := range b.runs + 2 {
		for _, gated := range []bool{i%2 == 0, i%2 != 0} {
			d, err := b.cli(gated, io.Discard, "nomad", "job", "status", job)
			if err != nil {
				return err
			}
			if i < 2 {
				continue // warm-up
			}
			if gated {
				via = append(via, d)
			} else {
				dir = append(dir, d)
			}
		}
	}
	if os.Getenv("AGENTBENCH_AUDIT") != "" {
		data, _ := os.ReadFile(filepath.Join(b.envm[agent.DirVar], agent.AuditName))
		lines := strings.Split(string(data), "\n")
		fmt.Println(strings.Join(lines[max(0, len(lines)-30):], "\n"))
	}
	r := float64(benchstack.Median(via)) / float64(benchstack.Median(dir))
	fmt.Printf("A2  the real `nomad job status %s`, whole process, median of %d runs each, interleaved:\n", job, b.runs)
	fmt.Printf("    direct %s, agent %s, ratio %.3f (target <= 1.05: %s)\n\n", ms(benchstack.Median(dir)), ms(benchstack.Median(via)), r, b.mark(r <= 1.05))
	return nil
}

type counter struct{ n atomic.Int64 }

func (c *counter) Write(p []byte) (int, error) { c.n.Add(int64(len(p))); return len(p), nil }

// a3: the real `nomad alloc logs ALLOC t` of the whole log.
func (b *bench) a3(alloc string) error {
	size := int64(b.logMiB) << 20
	var dir, via []float64
	for i := range b.streams + 1 {
		for _, gated := range []bool{i%2 == 0, i%2 != 0} {
			var c counter
			d, err := b.cli(gated, &c, "nomad", "alloc", "logs", alloc, "t")
			if err != nil {
				return err
			}
			if c.n.Load() != size {
				return fmt.Errorf("nomad alloc logs (agent %v) printed %d bytes, want %d", gated, c.n.Load(), size)
			}
			if i == 0 {
				continue
			}
			mibs := float64(size) / (1 << 20) / d.Seconds()
			if gated {
				via = append(via, mibs)
			} else {
				dir = append(dir, mibs)
			}
		}
	}
	md, mv := benchstack.Median(dir), benchstack.Median(via)
	r := mv / md
	fmt.Printf("A3  streaming: the real `nomad alloc logs` of a %d MiB log, median of %d runs each, interleaved:\n", b.logMiB, b.streams)
	fmt.Printf("    direct %.0f MiB/s, agent %.0f MiB/s, ratio %.3f (target >= 0.9: %s)\n\n", md, mv, r, b.mark(r >= 0.9))
	return nil
}

// memory reads VmRSS and VmHWM of pid, in KiB.
func memory(pid int) (rss, hwm int64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			rss, _ = strconv.ParseInt(f[1], 10, 64)
		case "VmHWM:":
			hwm, _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	return rss, hwm, nil
}

func mib(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

// a4: blocking queries on one Consul key, all held at once through the
// agent, then more than the agent's cap.
func (b *bench) a4() error {
	const key = "bench/blocking"
	gurl := "http://" + strings.TrimPrefix(b.gated["CONSUL_HTTP_ADDR"], "http://") + "/v1/kv/" + key
	gate := b.gated["CONSUL_HTTP_TOKEN"]
	put := func(v string) (uint64, error) {
		req, _ := http.NewRequest("PUT", gurl, strings.NewReader(v))
		req.Header.Set("X-Consul-Token", gate)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		req, _ = http.NewRequest("GET", gurl, nil)
		req.Header.Set("X-Consul-Token", gate)
		if resp, err = http.DefaultClient.Do(req); err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return strconv.ParseUint(resp.Header.Get("X-Consul-Index"), 10, 64)
	}
	idx, err := put("0")
	if err != nil {
		return err
	}
	rss0, _, err := memory(b.agentPID)
	if err != nil {
		return err
	}

	type result struct {
		status int
		body   string
		d      time.Duration
		err    error
	}
	hold := func(n int, wait time.Duration) ([]result, int64) {
		c := gatedClient(n)
		res := make([]result, n)
		var wg sync.WaitGroup
		var started sync.WaitGroup
		started.Add(n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequestWithContext(b.ctx, "GET", fmt.Sprintf("%s?index=%d&wait=%s", gurl, idx, wait), nil)
				req.Header.Set("X-Consul-Token", gate)
				started.Done()
				t0 := time.Now()
				resp, err := c.Do(req)
				if err != nil {
					res[i] = result{err: err, d: time.Since(t0)}
					return
				}
				body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
				resp.Body.Close()
				res[i] = result{status: resp.StatusCode, body: string(body), d: time.Since(t0)}
			}()
		}
		started.Wait()
		// The queries are held: sample the agent's RSS until the first
		// answers come (the wait's end).
		var peak int64
		deadline := time.Now().Add(wait * 3 / 4)
		for time.Now().Before(deadline) {
			if r, _, err := memory(b.agentPID); err == nil && r > peak {
				peak = r
			}
			time.Sleep(100 * time.Millisecond)
		}
		wg.Wait()
		c.CloseIdleConnections()
		return res, peak
	}

	res, peak := hold(b.blocking, b.wait)
	_, hwm, _ := memory(b.agentPID)
	ok, errs, early := 0, 0, 0
	var ds []time.Duration
	var firstErr string
	for _, r := range res {
		switch {
		case r.err == nil && r.status == http.StatusOK:
			ok++
			ds = append(ds, r.d)
			if r.d < b.wait*9/10 {
				early++
			}
		default:
			errs++
			if firstErr == "" {
				firstErr = fmt.Sprintf("%d %v %s", r.status, r.err, strings.TrimSpace(r.body))
			}
		}
	}
	fmt.Printf("A4  %d concurrent Consul blocking queries (wait %s) through the agent:\n", b.blocking, b.wait)
	fmt.Printf("    answered 200: %d, errors: %d%s (target: all, none: %s); answered before 0.9 x wait: %d; time to answer min %s, median %s, max %s\n",
		ok, errs, firstOf(firstErr), b.mark(ok == b.blocking), early, pct(ds, 0), benchstack.Median(ds).Round(time.Millisecond), pct(ds, 1).Round(time.Millisecond))
	fmt.Printf("    agent RSS: %s before, %s while held (peak sampled), VmHWM %s (target <= 40 MiB: %s)\n",
		mib(rss0), mib(peak), mib(hwm), b.mark(peak <= 40<<10 && hwm <= 40<<10))

	// Beyond the agent's own cap: its 429, not the server's.
	over := b.blocking * 3
	res, _ = hold(over, 3*time.Second)
	counts := map[string]int{}
	for _, r := range res {
		switch {
		case r.err != nil:
			counts["error"]++
		case r.status == http.StatusTooManyRequests && strings.Contains(r.body, "alilogin agent"):
			counts["429 from the agent"]++
		default:
			counts[strconv.Itoa(r.status)]++
		}
	}
	fmt.Printf("    %d at once (wait 3s): %v\n", over, counts)
	return nil
}

func firstOf(s string) string {
	if s == "" {
		return ""
	}
	return " (first: " + s + ")"
}

// holdOn writes the two environments as shell files and waits for an
// interrupt.
func (b *bench) holdOn() error {
	for name, gated := range map[string]bool{"direct.env": false, "agent.env": true} {
		var sb strings.Builder
		for _, kv := range b.cliEnv(gated) {
			k, v, _ := strings.Cut(kv, "=")
			fmt.Fprintf(&sb, "export %s='%s'\n", k, strings.ReplaceAll(v, "'", `'\''`))
		}
		f := filepath.Join(b.dir, name)
		if err := os.WriteFile(f, []byte(sb.String()), 0o600); err != nil {
			return err
		}
		fmt.Printf("%s: . %s\n", name, f)
	}
	fmt.Println("holding the stack and the agent; interrupt to end")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	return nil
}
