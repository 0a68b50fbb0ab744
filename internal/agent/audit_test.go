package agent

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuditLogHoldsNoTokenOrQuery: every request that reaches a route,
// forwarded or refused, is a JSON line of the 0600 audit log with its
// profile, server, method, path, status and bytes, and never a gate, a
// token or a query value.
func TestAuditLogHoldsNoTokenOrQuery(t *testing.T) {
	up := newUpstream(t)
	ta := startAgent(t, Options{Loader: hourLoader(up.URL, false)})
	g := ta.open(t)
	ta.do(t, Consul, "/v1/kv/app/db?token="+g[Consul]+"&secretquery=querysecret", nil)
	ta.do(t, Consul, "/v1/kv/app/db", func(r *http.Request) { r.Header.Set("X-Consul-Token", "not-a-gate-value") })
	ta.stop() // the log is written out
	p := filepath.Join(ta.dir, AuditName)
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("audit log: %v, mode %v", err, fi.Mode().Perm())
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, s := range []string{g[Consul], g[Nomad], g[Vault], "real-consul", "querysecret", "secretquery", "not-a-gate-value"} {
		if strings.Contains(text, s) {
			t.Errorf("the audit log holds %q:\n%s", s, text)
		}
	}
	var evs []Event
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		evs = append(evs, e)
	}
	if len(evs) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(evs), text)
	}
	if e := evs[0]; e.Profile != "p" || e.Server != Consul || e.Method != "GET" || e.Path != "/v1/kv/app/db" || e.Status != 200 || e.Bytes != 2 {
		t.Errorf("forwarded request: %+v", e)
	}
	if e := evs[1]; e.Status != http.StatusUnauthorized || e.Refused == "" || e.Path != "/v1/kv/app/db" {
		t.Errorf("refused request: %+v", e)
	}
	if evs[0].PID != os.Getpid() {
		t.Logf("the client's pid was not found (best effort): %d", evs[0].PID)
	}
}

// TestAuditLogRotatesAtItsBound: a line that would take the log past
// auditMax moves the log to audit.log.1 (one before it is dropped) and
// starts a new 0600 file with the line.
func TestAuditLogRotatesAtItsBound(t *testing.T) {
	path := filepath.Join(t.TempDir(), AuditName)
	if err := os.WriteFile(path+".1", []byte("the oldest\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := append(bytes.Repeat([]byte("x"), auditMax-11), '\n')
	if err := os.WriteFile(path, old, 0o600); err != nil {
		t.Fatal(err)
	}
	l := &auditFile{path: path, stderr: io.Discard}
	l.open()
	l.add([]byte("fits\n")) // auditMax-10+5: still under the bound
	l.add([]byte("past the bound\n"))
	l.close()
	if b, err := os.ReadFile(path + ".1"); err != nil || !bytes.Equal(b, append(old, "fits\n"...)) {
		t.Errorf("audit.log.1: %d bytes, %v; want the log before the rotation (%d bytes)", len(b), err, len(old)+5)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "past the bound\n" {
		t.Errorf("audit.log after the rotation: %q, %v", b, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("audit.log's mode: %v, %v", fi.Mode(), err)
	}
}
