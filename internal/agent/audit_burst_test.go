package agent

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestBurstOfRequestsWithinTheAuditLingerIsAllLogged: every proxied
// request goes to the audit log. The writer now sleeps auditLinger
// (20 ms) after the first event without draining the queue, and the
// queue holds 1024 (it held 4096, drained as events came): 1100 events
// within one linger lose 75 lines, of which only a count is written. A
// same-user client that wants one request unlogged sends it in such a
// burst (refused requests are cheap and are logged too).
func TestBurstOfRequestsWithinTheAuditLingerIsAllLogged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	a := newAudit(path, io.Discard)
	const n = 1100
	start := time.Now()
	for i := range n {
		a.log(Event{Time: start, Server: Nomad, Method: "GET", Path: "/v1/jobs", Status: 200 + i%2})
	}
	a.close()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines, dropped := 0, int64(0)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		if d, ok := m["dropped"].(float64); ok {
			dropped += int64(d)
			continue
		}
		lines++
	}
	if lines != n {
		t.Fatalf("%d of %d requests in the audit log (%d noted as dropped)", lines, n, dropped)
	}
}
