package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/testutil"
)

// TestJobSpecArtifact runs docs/deploy/broker.nomad.hcl the way
// operations.md deploys a release: the binary is the job's artifact,
// downloaded (here from a loopback server) with the checksum of its line
// in SHA256SUMS. The real Nomad agent starts the task with the right
// checksum and fails the download of the same URL with a wrong one or
// none (the job then checks against all zeros), so an unchecked binary
// never runs.
func TestJobSpecArtifact(t *testing.T) {
	setup(t)
	bin, err := os.ReadFile(brokerBin)
	must(t, err)
	sum := sha256.Sum256(bin)
	const version = "v9.8.7"
	var mu sync.Mutex
	var served []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		served = append(served, r.URL.Path)
		mu.Unlock()
		if r.URL.Path != "/broker-"+version+"-linux-amd64" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(bin)
	}))
	defer srv.Close()

	agent := startNomadAgent(t)
	nc, err := apiclient.New("Nomad", agent, "X-Nomad-Token", apiclient.TLS{}, 10*time.Second)
	must(t, err)
	dir := policiesDir(t, map[string]string{})
	type event struct{ Type, DisplayMessage string }
	events := func() []event {
		var allocs []struct {
			TaskStates map[string]struct{ Events []event }
		}
		if nc.Do(context.Background(), "GET", "/v1/job/alilogin-broker/allocations", nil, &allocs) != nil {
			return nil
		}
		var ev []event
		for _, a := range allocs {
			ev = append(ev, a.TaskStates["broker"].Events...)
		}
		return ev
	}
	for _, tc := range []struct {
		name, checksum string
		want           func(event) bool
	}{
		{"right checksum: started", "sha256:" + hex.EncodeToString(sum[:]),
			func(e event) bool { return e.Type == "Started" }},
		{"wrong checksum: download refused", "sha256:" + strings.Repeat("0", 64),
			func(e event) bool { return e.Type == "Failed Artifact Download" }},
		// Unset, the job's checksum is all zeros: the same refusal.
		{"no checksum: download refused", "",
			func(e event) bool { return e.Type == "Failed Artifact Download" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := nomadCLI(t, agent, "", "job", "run", "-detach",
				"-var", "driver=raw_exec", "-var", "count=1", "-var", "distinct_hosts=false",
				"-var", "artifact_url="+srv.URL+"/broker-{version}-linux-amd64", "-var", "version="+version,
				"-var", "artifact_checksum="+tc.checksum, "-var", "binary=local/broker",
				"-var", "policies_source=", "-var", "policies_dir="+dir,
				"-var", "vault_addr="+stack.Vault.Addr, "-var", "nomad_addr="+stack.Nomad.Addr,
				"-var", "consul_addr="+stack.Consul.Addr, "-var", "interval=10s", jobSpec)
			if err != nil {
				t.Fatalf("nomad job run: %v\n%s", err, out)
			}
			t.Cleanup(func() {
				_, _ = nomadCLI(t, agent, "", "job", "stop", "-purge", "alilogin-broker")
				testutil.WaitFor(t, time.Minute, "the job purged", func() bool {
					var j struct{ ID string }
					return nc.Do(context.Background(), "GET", "/v1/job/alilogin-broker", nil, &j) != nil
				})
			})
			var seen []event
			found := false
			testutil.EventuallyEvery(2*time.Minute, 100*time.Millisecond, func() bool {
				seen = events()
				for _, e := range seen {
					found = found || tc.want(e)
				}
				return found
			})
			if !found {
				t.Fatalf("no such task event in 2m: %+v", seen)
			}
			t.Logf("task events: %+v", seen)
			for _, e := range seen {
				if (tc.checksum == "" || strings.HasSuffix(tc.checksum, strings.Repeat("0", 64))) && e.Type == "Started" {
					t.Errorf("the task started with a wrong checksum: %+v", seen)
				}
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if len(served) == 0 || served[0] != "/broker-"+version+"-linux-amd64" {
		t.Errorf("the artifact server saw %v", served)
	}
}
