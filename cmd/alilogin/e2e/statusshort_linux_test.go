package e2e

import (
	"context"
	"io"
	"net"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/store"
)

// TestStatusShort: one line for a prompt, from the stored record only:
// with the record in the kernel cache, a change in the Secret Service is
// not seen and the session bus is not even connected to (no
// D-Bus connection, counted by a forwarder that is the user's session
// bus); no server is asked (Vault, Nomad, Consul and the SSO are
// pointed at a dead port); expired and logged-out profiles say so.
func TestStatusShort(t *testing.T) {
	requireKernelKeyring(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	u, profile := newSessionUser(t, ctx, "1h", "short-users")
	// The user's session bus is a counting forwarder to the stack's.
	bus := countingBus(t, strings.TrimPrefix(stack.Keyring.BusAddress, "unix:path="), u.home+"/bus")
	u.env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=" + u.home + "/bus"
	seed(t, ctx, u, profile, "short-users")
	u.ok(t, "env", "--for", "vault,nomad,consul") // stores and caches the record

	if bus.Load() == 0 {
		t.Fatal("the forwarder saw no D-Bus connection: the test proves nothing")
	}
	p := u.ok(t, "status", "--short")
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(profile) + ` 5[89]m\n$`).MatchString(p.stdout.String()) {
		t.Fatalf("status --short = %q", p.stdout.String())
	}

	// Behind the cache: the Secret Service now says 5 minutes.
	rec := mustRecord(t, u, profile)
	for _, tk := range []*store.Token{rec.Vault, rec.Nomad, rec.Consul} {
		tk.ExpiresAt = time.Now().Add(5 * time.Minute)
	}
	if err := store.NewKeyring(0, 0).Put(rec); err != nil {
		t.Fatal(err)
	}
	dead := deadAddr(t)
	offline := *u
	offline.env = map[string]string{}
	for k, v := range u.env {
		offline.env[k] = v
	}
	for _, k := range []string{"ALILOGIN_ISSUER", "VAULT_ADDR", "NOMAD_ADDR", "CONSUL_HTTP_ADDR"} {
		offline.env[k] = "http://" + dead
	}
	before := bus.Load()
	p = offline.ok(t, "status", "--short")
	if n := bus.Load() - before; n != 0 {
		t.Errorf("status --short made %d D-Bus connections with the record in the kernel cache, want none", n)
	}
	if got := p.stdout.String(); !strings.HasPrefix(got, profile+" 5") || strings.HasPrefix(got, profile+" 5m") || strings.HasPrefix(got, profile+" 4m") {
		t.Errorf("status --short from the kernel cache = %q, want the cached ~59m", got)
	}
	if p.stderr.String() != "" {
		t.Errorf("stderr: %q", p.stderr.String())
	}

	// Past the cache, the Secret Service's record.
	u.env["ALILOGIN_KERNEL_CACHE"] = "off"
	if got := u.ok(t, "status", "--short").stdout.String(); got != profile+" 4m\n" && got != profile+" 5m\n" {
		t.Errorf("status --short past the cache = %q, want ~5m", got)
	}
	for _, tk := range []*store.Token{rec.Vault, rec.Nomad, rec.Consul} {
		tk.ExpiresAt = time.Now().Add(-time.Minute)
	}
	putRecord(t, u, rec)
	if p := u.run(t, "status", "--short"); p.code() != 4 || p.stdout.String() != profile+" expired\n" {
		t.Errorf("expired: exit %d, %q", p.code(), p.stdout.String())
	}
	if p := u.run(t, "status", "--short", "--profile", "nobody-here"); p.code() != 4 || p.stdout.String() != "nobody-here logged out\n" {
		t.Errorf("logged out: exit %d, %q", p.code(), p.stdout.String())
	}
}

// countingBus listens on path and forwards each connection to the unix
// socket real, counting connections.
func countingBus(t *testing.T, real, path string) *atomic.Int64 {
	t.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var n atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			go func() {
				defer c.Close()
				r, err := net.Dial("unix", real)
				if err != nil {
					return
				}
				defer r.Close()
				go func() { _, _ = io.Copy(r, c); r.(*net.UnixConn).CloseWrite() }()
				_, _ = io.Copy(c, r)
			}()
		}
	}()
	return &n
}
