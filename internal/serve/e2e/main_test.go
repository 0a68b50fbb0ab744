package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/teststack"
)

var (
	stack       *teststack.Stack
	brokerBin   string
	aliloginBin string
	repoRoot    = filepath.Join("..", "..", "..")
)

func TestMain(m *testing.M) {
	os.Exit(teststack.MainWithBinaries(m, teststack.Options{NoKeyring: true}, &stack,
		[]string{teststack.BrokerPkg, teststack.AliloginPkg}, &brokerBin, &aliloginBin))
}

var setupOnce sync.Once

// setup mounts the JWT auth method and the secrets engines once.
func setup(t *testing.T) {
	t.Helper()
	var err error
	setupOnce.Do(func() {
		ctx := context.Background()
		if _, err = stack.EnableJWT(ctx, "jwt"); err != nil {
			return
		}
		if err = stack.EnableNomadEngine(ctx, "nomad"); err != nil {
			return
		}
		err = stack.EnableConsulEngine(ctx, "consul")
	})
	if err != nil {
		t.Fatalf("could not set up the stack: %v", err)
	}
}

// policiesDir copies the ALICE example with broker.hcl pointing at the
// stack; edits map a file to its new content.
func policiesDir(t *testing.T, edits map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := stack.CopyPolicies(dir, filepath.Join(repoRoot, "policies"), true); err != nil {
		t.Fatal(err)
	}
	for f, content := range edits {
		writeFile(t, filepath.Join(dir, f), content)
	}
	return dir
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	// Write then rename, as a deploy would, so that the watcher never
	// reads half a file.
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
}

// counter is a reverse proxy in front of one server that counts the write
// calls (anything but GET/HEAD) per "METHOD path".
type counter struct {
	name string
	srv  *httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

func newCounter(t *testing.T, name, target string) *counter {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	c := &counter{name: name, hits: map[string]int{}}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			c.mu.Lock()
			c.hits[r.Method+" "+r.URL.Path]++
			c.mu.Unlock()
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// writes counts the write calls whose "METHOD path" passes keep.
func (c *counter) writes(keep func(string) bool) (int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	var which []string
	for k, v := range c.hits {
		if keep == nil || keep(k) {
			n += v
			which = append(which, fmt.Sprintf("%s x%d", k, v))
		}
	}
	return n, which
}

// configWrite tells the writes of reconciling from the lock's and the
// lease traffic.
func configWrite(k string) bool {
	for _, skip := range []string{"/v1/session/", "/v1/kv/", "/v1/sys/leases/", "/v1/agent/"} {
		if strings.Contains(k, skip) {
			return false
		}
	}
	return true
}

// servers are the three counting proxies the brokers talk through.
type servers struct{ vault, nomad, consul *counter }

func newServers(t *testing.T) *servers {
	return &servers{
		vault:  newCounter(t, "vault", stack.Vault.Addr),
		nomad:  newCounter(t, "nomad", stack.Nomad.Addr),
		consul: newCounter(t, "consul", stack.Consul.Addr),
	}
}

func (s *servers) configWrites() (int, []string) {
	var all []string
	n := 0
	for _, c := range []*counter{s.vault, s.nomad, s.consul} {
		k, w := c.writes(configWrite)
		n += k
		for _, x := range w {
			all = append(all, c.name+": "+x)
		}
	}
	return n, all
}

// brokerProc is a running `broker serve`.
type brokerProc struct {
	name string
	url  string
	cmd  *exec.Cmd
	log  *teststack.SyncBuffer
	done chan struct{}
}

// startBroker runs `broker serve dir` through the proxies of srv (nil: the
// servers directly).
func startBroker(t *testing.T, name, dir string, srv *servers, args ...string) *brokerProc {
	t.Helper()
	port, err := teststack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	listen := "127.0.0.1:" + strconv.Itoa(port)
	vaultAddr, nomadAddr, consulAddr := stack.Vault.Addr, stack.Nomad.Addr, stack.Consul.Addr
	if srv != nil {
		vaultAddr, nomadAddr, consulAddr = srv.vault.srv.URL, srv.nomad.srv.URL, srv.consul.srv.URL
	}
	b := &brokerProc{name: name, url: "http://" + listen, log: &teststack.SyncBuffer{}, done: make(chan struct{})}
	b.cmd = exec.Command(brokerBin, append([]string{"serve", dir, "--listen", listen, "--identity", name,
		"--log-format", "json", "--watch-interval", "200ms"}, args...)...)
	b.cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"VAULT_ADDR=" + vaultAddr, "VAULT_TOKEN=" + stack.Vault.RootToken,
		"NOMAD_ADDR=" + nomadAddr, "NOMAD_TOKEN=" + stack.Nomad.ManagementToken,
		"CONSUL_HTTP_ADDR=" + consulAddr, "CONSUL_HTTP_TOKEN=" + stack.Consul.ManagementToken,
	}
	b.cmd.Stdout, b.cmd.Stderr = b.log, b.log
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = b.cmd.Wait(); close(b.done) }()
	t.Cleanup(func() {
		b.kill()
		if t.Failed() {
			t.Logf("===== broker %s log =====\n%s", b.name, b.log.String())
		}
	})
	return b
}

func (b *brokerProc) kill() {
	select {
	case <-b.done:
	default:
		_ = b.cmd.Process.Kill()
		<-b.done
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (b *brokerProc) stop(t *testing.T) {
	t.Helper()
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("broker %s did not stop on SIGTERM", b.name)
	}
	if code := b.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("broker %s exited %d after SIGTERM", b.name, code)
	}
}

func (b *brokerProc) get(path string) (int, string, error) {
	resp, err := http.Get(b.url + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// status reads /readyz.
func (b *brokerProc) status() (int, map[string]any) {
	code, body, err := b.get("/readyz")
	if err != nil {
		return 0, nil
	}
	var st map[string]any
	_ = json.Unmarshal([]byte(body), &st)
	return code, st
}

func (b *brokerProc) leading() bool {
	_, st := b.status()
	l, _ := st["leader"].(bool)
	return l
}

// metric returns the value of the series named exactly series (name with
// labels) in /metrics, or -1.
func (b *brokerProc) metric(series string) float64 {
	_, body, err := b.get("/metrics")
	if err != nil {
		return -1
	}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err == nil {
				return v
			}
		}
	}
	return -1
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func nomadRules(t *testing.T, c *apiclient.Client, name string) string {
	t.Helper()
	var p struct{ Rules string }
	must(t, c.Do(context.Background(), "GET", "/v1/acl/policy/"+name, nil, &p))
	return p.Rules
}

func decodeJSON(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}
