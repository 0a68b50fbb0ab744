package applybench

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/apply"
	"github.com/alisw/alilogin/internal/plan"
	"github.com/alisw/alilogin/internal/policy"
	"github.com/alisw/alilogin/internal/teststack"
)

const profiles = 1000

var stack *teststack.Stack

func TestMain(m *testing.M) {
	flag.Parse()
	if flag.Lookup("test.bench").Value.String() == "" {
		os.Exit(m.Run()) // tests only: no servers needed
	}
	os.Exit(teststack.Main(m, teststack.Options{NoKeyring: true, NoHydra: true}, &stack))
}

// generate writes a policies directory with n profiles, each with its own
// Vault, Nomad and Consul policy, and one role block per 100 profiles.
func generate(t testing.TB, n int) string {
	t.Helper()
	dir := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("broker.hcl", `sso {
  issuer    = "https://sso.example.org/"
  client_id = "alilogin-bench"
}
vault {}
`)
	var b strings.Builder
	for i := range n {
		name := fmt.Sprintf("team-%04d", i)
		fmt.Fprintf(&b, `profile %q {
  description     = "generated profile %d"
  roles           = ["egroup-%04d", "egroup-all-%02d"]
  vault_policies  = [%q]
  nomad_policies  = [%q]
  consul_policies = [%q]
  ttl             = "1h"
  max_ttl         = "8h"
}
`, name, i, i, i/100, name+"-secrets", name+"-jobs", name+"-kv")
		write("vault/"+name+"-secrets.hcl", fmt.Sprintf("path \"kv/data/%s/*\" {\n  capabilities = [\"read\", \"list\"]\n}\n", name))
		write("nomad/"+name+"-jobs.hcl", fmt.Sprintf("namespace %q {\n  policy       = \"write\"\n  capabilities = [\"alloc-lifecycle\"]\n}\n", name))
		write("consul/"+name+"-kv.hcl", fmt.Sprintf("key_prefix \"%s/\" {\n  policy = \"write\"\n}\nservice_prefix \"\" {\n  policy = \"read\"\n}\n", name))
	}
	for g := range (n + 99) / 100 {
		fmt.Fprintf(&b, "role \"egroup-all-%02d\" {\n  vault_policies = [\"team-%04d-secrets\"]\n}\n", g, g*100)
	}
	write("profiles.hcl", b.String())
	return dir
}

func TestGeneratedPoliciesAreValid(t *testing.T) {
	cfg, err := policy.Load(generate(t, profiles))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Profiles) != profiles || len(cfg.NomadPolicies) != profiles || len(cfg.Roles) != profiles/100 {
		t.Fatalf("generated %d profiles, %d Nomad policies, %d roles", len(cfg.Profiles), len(cfg.NomadPolicies), len(cfg.Roles))
	}
}

// counter counts the write calls (anything but GET) that reach the
// servers, below the code under test.
type counter struct{ writes atomic.Int64 }

type counting struct {
	next http.RoundTripper
	c    *counter
}

func (t counting) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodGet {
		t.c.writes.Add(1)
	}
	return t.next.RoundTrip(r)
}

// clients returns the broker's clients, their writes counted.
func clients(b *testing.B, cfg *policy.Config) (apply.Clients, *counter) {
	b.Helper()
	env := map[string]string{}
	for _, kv := range stack.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	c, err := apply.ClientsFromEnv(func(k string) string { return env[k] }, cfg)
	if err != nil {
		b.Fatal(err)
	}
	cnt := &counter{}
	for _, cl := range []*apiclient.Client{c.Vault, c.Nomad, c.Consul} {
		cl.HTTP.Transport = counting{next: cl.HTTP.Transport, c: cnt}
	}
	return c, cnt
}

var mountOnce bool

func mounts(b *testing.B) {
	b.Helper()
	if mountOnce {
		return
	}
	ctx := context.Background()
	v := stack.Vault.Client()
	for _, m := range []struct{ path, body string }{{"sys/auth/jwt", "jwt"}, {"sys/mounts/nomad", "nomad"}, {"sys/mounts/consul", "consul"}} {
		if err := v.Do(ctx, "POST", "/v1/"+m.path, map[string]any{"type": m.body}, nil); err != nil {
			b.Fatal(err)
		}
	}
	mountOnce = true
}

// wipe deletes every object of the benchmark, outside the timed part.
func wipe(b *testing.B, cfg *policy.Config, c apply.Clients) {
	b.Helper()
	empty := *cfg
	empty.Profiles, empty.Roles, empty.VaultPolicies, empty.NomadPolicies, empty.ConsulPolicies = nil, nil, nil, nil, nil
	if _, err := apply.Run(context.Background(), &empty, c, apply.Options{Prune: true, AllowMassDelete: true}); err != nil {
		b.Fatal(err)
	}
}

func run(b *testing.B, cfg *policy.Config, c apply.Clients, cnt *counter, opts apply.Options) (time.Duration, int64, apply.Result) {
	b.Helper()
	cnt.writes.Store(0)
	t0 := time.Now()
	res, err := apply.Run(context.Background(), cfg, c, opts)
	d := time.Since(t0)
	if err != nil {
		b.Fatal(err)
	}
	return d, cnt.writes.Load(), res
}

// setup mounts the engines, loads the generated profiles and, when
// applied is set, applies them once.
func setup(b *testing.B, applied bool) (*policy.Config, apply.Clients, *counter) {
	mounts(b)
	cfg, err := policy.Load(generate(b, profiles))
	if err != nil {
		b.Fatal(err)
	}
	c, cnt := clients(b, cfg)
	if applied {
		if _, err := apply.Run(context.Background(), cfg, c, apply.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	return cfg, c, cnt
}

func BenchmarkApplyFromEmpty(b *testing.B) {
	cfg, c, cnt := setup(b, false)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		wipe(b, cfg, c)
		b.StartTimer()
		d, writes, res := run(b, cfg, c, cnt, apply.Options{})
		b.ReportMetric(float64(writes), "writes/op")
		b.Logf("apply from empty: %s, %d writes (apply counted %d), %d creates", d.Round(time.Millisecond), writes, res.TotalWrites(), res.Plan.Total().Create)
		if d > 60*time.Second {
			b.Errorf("apply from empty took %s; target 60s", d)
		}
	}
}

func BenchmarkNoChangeApply(b *testing.B) {
	cfg, c, cnt := setup(b, true)
	b.ResetTimer()
	for range b.N {
		d, writes, res := run(b, cfg, c, cnt, apply.Options{})
		b.ReportMetric(float64(writes), "writes/op")
		reads := 0
		for _, r := range res.Reads {
			reads += r
		}
		b.ReportMetric(float64(reads), "reads/op")
		b.Logf("no-change apply: %s, %d writes, %d reads", d.Round(time.Millisecond), writes, reads)
		if writes != 0 {
			b.Errorf("no-change apply made %d write calls; want 0", writes)
		}
		if d > 10*time.Second {
			b.Errorf("no-change apply took %s; target 10s", d)
		}
	}
}

func BenchmarkPlan(b *testing.B) {
	cfg, c, cnt := setup(b, true)
	// Drift in 1% of the profiles: the plan has something to find.
	n := stack.Nomad.Client()
	for i := 0; i < profiles; i += 100 {
		name := fmt.Sprintf("team-%04d-jobs", i)
		if err := n.Do(context.Background(), "POST", "/v1/acl/policy/"+url.PathEscape(name), map[string]any{"Name": name,
			"Description": plan.Description(plan.NomadPolicy, name), "Rules": `namespace "*" { policy = "write" }`}, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		d, writes, res := run(b, cfg, c, cnt, apply.Options{DryRun: true})
		b.Logf("plan: %s, %d changes found, %d writes", d.Round(time.Millisecond), res.Plan.Total().Total(), writes)
		if writes != 0 || res.Plan.Total().Update != profiles/100 {
			b.Errorf("plan: %d writes, %d updates; want 0 and %d", writes, res.Plan.Total().Update, profiles/100)
		}
	}
}
