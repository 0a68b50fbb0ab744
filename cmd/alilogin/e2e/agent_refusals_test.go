package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/clientcert"
)

// agentGet sends a GET with header token=gate to base+path, with host as
// Host when not empty, and returns the status.
func agentGet(t *testing.T, ctx context.Context, c *http.Client, base, path, header, gate, host string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(header, gate)
	if host != "" {
		req.Host = host
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s%s: %v", base, path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// wsStatus opens a websocket handshake to addr (host:port) for path with
// the headers extra, and returns the status line's code.
func wsStatus(t *testing.T, addr, path string, extra map[string]string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	for k, v := range extra {
		req += k + ": " + v + "\r\n"
	}
	if _, err := c.Write([]byte(req + "\r\n")); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("websocket handshake to %s: %v", addr, err)
	}
	f := strings.Fields(line)
	if len(f) < 2 {
		t.Fatalf("websocket handshake to %s: %q", addr, line)
	}
	return f[1]
}

// asUID runs a raw HTTP GET of path with header: gate against addr from
// bash's /dev/tcp as uid and returns the status line.
func rawGetAs(t *testing.T, uid uint32, addr, path, header, gate string) string {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	script := fmt.Sprintf(`exec 3<>/dev/tcp/%s/%s && printf 'GET %s HTTP/1.0\r\nHost: %s\r\n%s: %s\r\n\r\n' >&3 && head -n 1 <&3`, host, port, path, addr, header, gate)
	cmd := exec.Command("/bin/bash", "-c", script)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	cmd.Dir = "/"
	if uid != uint32(os.Getuid()) {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid, Groups: []uint32{}}}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("raw GET as uid %d: %v\n%s", uid, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestAgentRefuses: what the agent and the servers refuse. A gate sent
// straight to Nomad, Consul or Vault (with the login's client
// certificate, so that only the token decides) is refused by each
// server, while through the agent it works; a request whose Host is not
// the agent's own address (DNS rebinding) and a websocket upgrade from a
// web page (a foreign Origin) are refused by the agent, while the same
// websocket without Origin gets through; another uid (nobody) connecting
// to the agent's port with a valid gate is refused; after `alilogin
// logout` the gate is refused by the agent and exec --agent says to log
// in.
func TestAgentRefuses(t *testing.T) {
	au, ctx := newAgentUserFor(t, 4*time.Minute)
	alloc := runAgentJob(t, ctx, au)
	g := au.gates(t)
	nomadRoute, consulRoute, vaultRoute := g["NOMAD_ADDR"], "http://"+strings.TrimPrefix(g["CONSUL_HTTP_ADDR"], "http://"), g["VAULT_ADDR"]

	// Straight to the servers, presenting the login's certificate.
	pool := x509.NewCertPool()
	ca, err := os.ReadFile(au.m.pki.CA)
	if err != nil {
		t.Fatal(err)
	}
	pool.AppendCertsFromPEM(ca)
	dir := au.rec.CertFileDirs()[0]
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, clientcert.CertFile), filepath.Join(dir, clientcert.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	direct := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}}}}
	plain := &http.Client{}
	for _, c := range []struct {
		name, server, route, path, header, gate string
		client                                  *http.Client
	}{
		{"Nomad", au.m.nomad.Addr, nomadRoute, "/v1/jobs", "X-Nomad-Token", g["NOMAD_TOKEN"], direct},
		{"Consul", au.m.consul.Addr, consulRoute, "/v1/kv/agent?recurse=true", "X-Consul-Token", g["CONSUL_HTTP_TOKEN"], direct},
		{"Vault", stack.Vault.Addr, vaultRoute, "/v1/auth/token/lookup-self", "X-Vault-Token", g["VAULT_TOKEN"], plain},
	} {
		if st := agentGet(t, ctx, c.client, c.server, c.path, c.header, c.gate, ""); st != http.StatusForbidden {
			t.Errorf("%s: the gate sent straight to the server got %d, want 403", c.name, st)
		}
		if st := agentGet(t, ctx, plain, c.route, c.path, c.header, c.gate, ""); st != http.StatusOK && !(c.name == "Consul" && st == http.StatusNotFound) {
			t.Errorf("%s: the gate through the agent got %d, want it served", c.name, st)
		}
		// DNS rebinding: a page of attacker.example resolving to 127.0.0.1.
		if st := agentGet(t, ctx, plain, c.route, c.path, c.header, c.gate, "attacker.example"); st != http.StatusMisdirectedRequest {
			t.Errorf("%s: Host: attacker.example got %d, want 421", c.name, st)
		}
		if st := agentGet(t, ctx, plain, c.route, c.path, c.header, "00000000-0000-4000-8000-000000000000", ""); st != http.StatusUnauthorized {
			t.Errorf("%s: a made-up gate got %d, want 401", c.name, st)
		}
	}
	// A gate of one server at another's route.
	if st := agentGet(t, ctx, plain, consulRoute, "/v1/kv/agent", "X-Consul-Token", g["NOMAD_TOKEN"], ""); st != http.StatusUnauthorized {
		t.Errorf("the Nomad gate at the Consul route got %d, want 401", st)
	}

	// The exec websocket: without Origin (as the nomad CLI) it upgrades;
	// from a web page it is refused before it reaches Nomad.
	u, _ := url.Parse(nomadRoute)
	wsPath := "/v1/client/allocation/" + alloc + "/exec?task=t&tty=false&command=" + url.QueryEscape(`["/bin/echo","x"]`)
	if st := wsStatus(t, u.Host, wsPath, map[string]string{"X-Nomad-Token": g["NOMAD_TOKEN"]}); st != "101" {
		t.Errorf("the exec websocket without Origin: %s, want 101", st)
	}
	if st := wsStatus(t, u.Host, wsPath, map[string]string{"X-Nomad-Token": g["NOMAD_TOKEN"], "Origin": "http://attacker.example"}); st != "403" {
		t.Errorf("the exec websocket with Origin: http://attacker.example: %s, want 403", st)
	}

	// Another user of the host, with a valid gate.
	requireRoot(t)
	if st := rawGetAs(t, uint32(os.Getuid()), u.Host, "/v1/jobs", "X-Nomad-Token", g["NOMAD_TOKEN"]); !strings.Contains(st, " 200 ") {
		t.Errorf("the raw GET as the user: %q, want 200", st)
	}
	if st := rawGetAs(t, nobody, u.Host, "/v1/jobs", "X-Nomad-Token", g["NOMAD_TOKEN"]); !strings.Contains(st, " 403 ") {
		t.Errorf("the raw GET as nobody with a valid gate: %q, want 403", st)
	}

	// Logout: the gate dies at once.
	if p := au.run(t, "logout", "--profile", au.m.profile); p.code() != 0 {
		t.Fatalf("logout: exit %d\n%s", p.code(), p.stderr.String())
	}
	if st := agentGet(t, ctx, plain, nomadRoute, "/v1/jobs", "X-Nomad-Token", g["NOMAD_TOKEN"], ""); st != http.StatusUnauthorized {
		t.Errorf("the gate after logout got %d, want 401", st)
	}
	if st := au.status(t); len(st.Profiles) != 0 {
		t.Errorf("agent status after logout lists %+v", st.Profiles)
	}
	p := au.exec(t, "nomad", "job", "status")
	if p.code() != 4 || !strings.Contains(p.stderr.String(), "alilogin login --profile "+au.m.profile) {
		t.Errorf("exec --agent after logout: exit %d, want 4 and the login to run\n%s", p.code(), p.stderr.String())
	}
}
