package agent

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/store"
)

// BenchmarkProxySmallGET is one small GET (GET /v1/jobs, a 2-byte
// answer) through the agent's Nomad route, on a kept-alive connection,
// to a local TLS server speaking HTTP/1.1 (as Nomad 1.6.1 does), with
// the real guard (Rules) and the stored login's generation check of
// SessionLoader (store.Watch on a generation file). The CPU time and
// allocations per op are the client's, the agent's and the server's
// together, all in this process (cpu-µs/op: the process's user and
// system time, whatever the machine's load): what changes between two runs is the
// agent's. It also reports the connections the server saw per op (the
// agent's upstream pool must keep one).
func BenchmarkProxySmallGET(b *testing.B) {
	var conns atomic.Int64
	s := newHeldServer(b, false)
	s.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "[]")
	})
	cs := s.Config.ConnState
	s.Config.ConnState = func(c net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
		cs(c, st)
	}
	state := b.TempDir()
	getenv := func(k string) string {
		if k == "XDG_STATE_HOME" {
			return state
		}
		return ""
	}
	gen, _, ok := store.Watch(getenv, "p")
	if !ok {
		b.Fatal("no generation file to watch here")
	}
	if err := os.MkdirAll(filepath.Dir(gen), 0o700); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(gen, []byte("0123456789abcdef0123456789abcdef"), 0o600); err != nil {
		b.Fatal(err)
	}
	load := func(int) (*Creds, error) {
		c := tlsCreds(s)
		if current, ok := store.Watcher(getenv, "p"); ok { // as SessionLoader
			c.Gen = string(current())
			c.Watch = func() (string, bool) { return string(current()), true }
		}
		return c, nil
	}
	ta := startAgent(b, Options{Loader: &fakeLoader{next: load}, Guard: Rules{}})
	gate := ta.open(b)[Nomad]
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer c.CloseIdleConnections()
	get := func() {
		req, _ := http.NewRequest("GET", ta.routes[Nomad]+"/v1/jobs", nil)
		req.Header.Set("X-Nomad-Token", gate)
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	get() // the connections and the credentials
	conns.Store(0)
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	for b.Loop() {
		get()
	}
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(conns.Load())/float64(b.N), "upconns/op")
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
