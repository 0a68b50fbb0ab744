package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/discovery"
	"github.com/alisw/alilogin/internal/testutil"
)

// driftNomadPolicy rewrites the rules of a managed Nomad policy by hand,
// keeping its description (and so the managed marker).
func driftNomadPolicy(t *testing.T, name string) {
	t.Helper()
	n := stack.Nomad.Client()
	var p struct{ Name, Description, Rules string }
	must(t, n.Do(context.Background(), "GET", "/v1/acl/policy/"+name, nil, &p))
	p.Rules = `namespace "default" { policy = "write" }`
	must(t, n.Do(context.Background(), "POST", "/v1/acl/policy/"+name, p, nil))
}

func TestDriftFixedAndBrokenFolder(t *testing.T) {
	setup(t)
	const interval = 3 * time.Second
	dir := policiesDir(t, map[string]string{})
	srv := newServers(t)
	b := startBroker(t, "drift", dir, srv, "--interval", interval.String(), "--lock-key", "test/drift")
	testutil.WaitFor(t, time.Minute, "the broker to be ready", func() bool { c, _ := b.status(); return c == 200 })
	// Ready can come before the first run: drift made before that run
	// would be fixed by it, not by the interval this test measures.
	testutil.WaitFor(t, time.Minute, "the first reconcile run", func() bool {
		return b.metric(`alilogin_broker_reconcile_runs_total{result="ok"}`) >= 1
	})
	if !b.leading() { // a run is made by the leader only
		t.Fatal("a single instance does not lead")
	}
	orig := nomadRules(t, stack.Nomad.Client(), "ci-read-jobs")

	// Drift by hand: fixed within one interval, and the metrics show it.
	driftNomadPolicy(t, "ci-read-jobs")
	took := testutil.WaitFor(t, interval+10*time.Second, "the drift to be fixed", func() bool {
		return nomadRules(t, stack.Nomad.Client(), "ci-read-jobs") == orig
	})
	t.Logf("drift fixed after %s (interval %s)", took.Round(time.Millisecond), interval)
	// One interval, plus the run itself (slack for a loaded CI machine).
	if took > interval+5*time.Second {
		t.Errorf("drift fixed after %s, more than one interval (%s) plus a run", took, interval)
	}
	testutil.WaitFor(t, 5*time.Second, "the metrics to show the drift", func() bool {
		return b.metric(`alilogin_broker_drift_fixed_total{system="nomad"}`) >= 1 &&
			b.metric(`alilogin_broker_drift_found_total{system="nomad"}`) >= 1
	})
	if v := b.metric(`alilogin_broker_reconcile_runs_total{result="ok"}`); v < 2 {
		t.Errorf("reconcile_runs_total{ok} = %v", v)
	}
	if v := b.metric("alilogin_broker_last_success_timestamp_seconds"); v < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("last_success_timestamp_seconds = %v", v)
	}

	// A broken folder while serving: not ready, error shown, nothing
	// written, the last good configuration (and discovery) stay.
	good, err := os.ReadFile(filepath.Join(dir, "profiles.hcl"))
	must(t, err)
	before, _ := srv.configWrites()
	writeFile(t, filepath.Join(dir, "profiles.hcl"), string(good)+"\nprofile \"broken\" {\n  roles = [\n")
	testutil.WaitFor(t, 10*time.Second, "/readyz to report the broken folder", func() bool {
		c, st := b.status()
		msg, _ := st["config_error"].(string)
		return c == 503 && strings.Contains(msg, "profiles.hcl")
	})
	if v := b.metric("alilogin_broker_config_valid"); v != 0 {
		t.Errorf("config_valid = %v", v)
	}
	// Two more runs: the leader keeps reconciling the last good config,
	// which has nothing to change.
	runs := reconciles(b)
	testutil.WaitFor(t, 2*interval+20*time.Second, "two more reconcile runs", func() bool { return reconciles(b) >= runs+2 })
	after, which := srv.configWrites()
	if after != before {
		t.Errorf("%d writes while the folder was broken: %v", after-before, which)
	}
	code, body, err := b.get(discovery.Path)
	if err != nil || code != 200 || !strings.Contains(body, `"ci-user"`) {
		t.Fatalf("discovery with a broken folder: %d %v %s", code, err, body)
	}
	gen := b.metric("alilogin_broker_config_generation")

	// Fixed: ready again, a new generation only if the content changed.
	writeFile(t, filepath.Join(dir, "profiles.hcl"), string(good))
	testutil.WaitFor(t, 10*time.Second, "ready again", func() bool { c, _ := b.status(); return c == 200 })
	if g := b.metric("alilogin_broker_config_generation"); g != gen {
		t.Errorf("generation %v -> %v for the same content", gen, g)
	}
	b.stop(t)
	if !strings.Contains(b.log.String(), `"msg":"stopped leading"`) {
		t.Errorf("no lock release in the log")
	}
	// No secret in the logs.
	for _, s := range []string{stack.Vault.RootToken, stack.Nomad.ManagementToken, stack.Consul.ManagementToken} {
		if strings.Contains(b.log.String(), s) {
			t.Error("a token appears in the broker's log")
		}
	}
	var line map[string]any
	first, _, _ := strings.Cut(b.log.String(), "\n")
	if err := json.Unmarshal([]byte(first), &line); err != nil {
		t.Errorf("log is not JSON: %q", first)
	}
}

// startAndChange starts a broker whose watcher polls every watch, then
// changes its folder: the first profile's description gets mark.
func startAndChange(t *testing.T, name, watch, mark string) *brokerProc {
	t.Helper()
	setup(t)
	dir := policiesDir(t, map[string]string{})
	b := startBroker(t, name, dir, nil, "--interval", "1m", "--lock-key", "test/"+name, "--watch-interval", watch)
	testutil.WaitFor(t, time.Minute, "the broker to be ready", func() bool { c, _ := b.status(); return c == 200 })
	if g := b.metric("alilogin_broker_config_generation"); g != 1 {
		t.Fatalf("generation %v", g)
	}
	p := filepath.Join(dir, "profiles.hcl")
	src, err := os.ReadFile(p)
	must(t, err)
	writeFile(t, p, strings.Replace(string(src), "Look at the CI:", "Look at the CI "+mark+":", 1))
	return b
}

// waitReloaded waits for the changed folder in force: generation 2, mark
// in the discovery document.
func waitReloaded(t *testing.T, b *brokerProc, what, mark string) {
	t.Helper()
	testutil.WaitFor(t, 10*time.Second, "generation 2 "+what, func() bool {
		return b.metric("alilogin_broker_config_generation") == 2
	})
	if _, body, _ := b.get(discovery.Path); !strings.Contains(body, mark) {
		t.Errorf("discovery not updated: %s", body)
	}
}

// TestWatchReloads: a change of the folder is loaded by the watcher,
// without SIGHUP.
func TestWatchReloads(t *testing.T) {
	b := startAndChange(t, "watch", "100ms", "(watched)")
	waitReloaded(t, b, "from the watcher", "(watched)")
	if strings.Contains(b.log.String(), "reloading the policies folder on request") {
		t.Errorf("the reload was a request's, not the watcher's:\n%s", b.log.String())
	}
}

// TestSIGHUPReloads: with file polling effectively off (1h), SIGHUP makes
// the broker read the folder again.
func TestSIGHUPReloads(t *testing.T) {
	b := startAndChange(t, "hup", "1h", "(reloaded)")
	must(t, b.cmd.Process.Signal(syscall.SIGHUP))
	waitReloaded(t, b, "after SIGHUP", "(reloaded)")
	if !strings.Contains(b.log.String(), "reloading the policies folder on request") {
		t.Errorf("no reload on request in the log:\n%s", b.log.String())
	}
}
