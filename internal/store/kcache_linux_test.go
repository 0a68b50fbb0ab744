package store

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/alisw/alilogin/internal/secret"
)

// kernelCache returns a cache on the real kernel keyring in a namespace of
// its own, or skips the test where keyctl does not work.
func kernelCache(t *testing.T, stateDir string) *KernelCache {
	t.Helper()
	c := NewKernelCache(func(string) string { return "" }, stateDir, time.Now)
	probe := c.description("probe")
	// As large as a few records: a uid's key quota (20000 bytes unless
	// root) may be taken by records other tests cached.
	id, err := unix.AddKey("user", probe, make([]byte, 2048), unix.KEY_SPEC_USER_KEYRING)
	if err != nil {
		skipOutsideCI(t, fmt.Sprintf("no kernel keyring here, or no room in the key quota: %v", err))
	}
	_, _ = unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0)
	return c
}

// keyID finds the cache's key for profile.
func keyID(t *testing.T, c *KernelCache, profile string) int {
	t.Helper()
	id, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "user", c.description(profile), 0)
	if err != nil {
		t.Fatalf("no kernel key for %s: %v", profile, err)
	}
	return id
}

func TestKernelCacheRoundTrip(t *testing.T) {
	c := kernelCache(t, t.TempDir())
	t.Cleanup(func() { c.Invalidate("ci") })
	if _, ok := c.Get("ci"); ok {
		t.Fatal("a new namespace already has a record")
	}
	r := testRecord("ci")
	r.Vault.ExpiresAt = time.Now().Add(time.Hour)
	put(c, r)
	got, ok := c.Get("ci")
	if !ok {
		t.Fatal("not cached")
	}
	if diff := cmp.Diff(r, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}

	// The key: ours, "user", possessor and user read/write/search/view,
	// nothing for group and other, and a timeout.
	id := keyID(t, c, "ci")
	d, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("user;%d;%d;%08x;%s", os.Getuid(), os.Getgid(), cachePerm, c.description("ci"))
	if d != want {
		t.Errorf("KEYCTL_DESCRIBE = %q, want %q", d, want)
	}
	checkTimeout(t, id)

	// Put replaces the payload, and the replacement has a timeout too.
	r2 := testRecord("ci")
	r2.Nomad.Secret = secret.New("nomad-secret-2")
	r2.Vault.ExpiresAt = time.Now().Add(time.Hour)
	put(c, r2)
	if got, ok := c.Get("ci"); !ok || !cmp.Equal(got, r2) {
		t.Errorf("after a second Put: ok=%v (-want +got):\n%s", ok, cmp.Diff(r2, got))
	}
	checkTimeout(t, keyID(t, c, "ci"))
}

// checkTimeout fails unless /proc/keys shows an expiry (not "perm") for
// the key.
func checkTimeout(t *testing.T, id int) {
	t.Helper()
	b, err := os.ReadFile("/proc/keys")
	if err != nil {
		skipOutsideCI(t, fmt.Sprintf("no /proc/keys (%v): timeout not checked", err))
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 3 && f[0] == fmt.Sprintf("%08x", id) {
			if f[3] == "perm" {
				t.Errorf("key %08x has no timeout: %s", id, line)
			}
			return
		}
	}
	t.Errorf("key %08x not in /proc/keys", id)
}

func TestKernelCacheNamespaces(t *testing.T) {
	a, b := kernelCache(t, t.TempDir()), kernelCache(t, t.TempDir())
	t.Cleanup(func() { a.Invalidate("ci"); b.Invalidate("ci") })
	put(a, testRecord("ci"))
	if _, ok := a.Get("ci"); !ok {
		t.Fatal("not cached")
	}
	if _, ok := b.Get("ci"); ok {
		t.Error("a store with another state dir sees the record")
	}
	b.Invalidate("ci")
	if _, ok := a.Get("ci"); !ok {
		t.Error("another store's Invalidate dropped the record")
	}
}

func TestCachedDeleteInvalidates(t *testing.T) {
	dir := t.TempDir()
	c := kernelCache(t, dir)
	t.Cleanup(func() { c.Invalidate("ci") })
	back := &countingStore{Store: NewFile(dir)}
	st := &Cached{Store: back, Cache: c, Fill: true}
	r := testRecord("ci")
	mustPut(t, st, r)
	if got, err := st.Get("ci"); err != nil || !cmp.Equal(got, r) || back.gets != 0 {
		t.Fatalf("Get after Put: err %v, backend reads %d (want 0: from the cache)", err, back.gets)
	}
	if err := st.Delete("ci"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get("ci"); !errors.Is(err, ErrNotFound) || back.gets != 1 {
		t.Errorf("Get after Delete: %v, backend reads %d; want ErrNotFound from the backend", err, back.gets)
	}
	if _, ok := c.Get("ci"); ok {
		t.Error("the cached copy survived Delete")
	}
}

func TestKernelCacheCorruptKey(t *testing.T) {
	dir := t.TempDir()
	c := kernelCache(t, dir)
	t.Cleanup(func() { c.Invalidate("ci") })
	if _, err := unix.AddKey("user", c.description("ci"), []byte("gen:"+string(c.Generation("ci"))+"\n{not json"), unix.KEY_SPEC_USER_KEYRING); err != nil {
		t.Fatal(err)
	}
	back := &countingStore{Store: NewFile(dir)}
	mustPut(t, back, testRecord("ci"))
	st := &Cached{Store: back, Cache: c, Fill: true}
	if got, err := st.Get("ci"); err != nil || !cmp.Equal(got, testRecord("ci")) || back.gets != 1 {
		t.Errorf("Get over a corrupt kernel key: err %v, backend reads %d", err, back.gets)
	}
	if got, ok := c.Get("ci"); !ok || !cmp.Equal(got, testRecord("ci")) {
		t.Error("the corrupt key was not replaced")
	}
}

func TestOpenWrapsInKernelCache(t *testing.T) {
	home := t.TempDir()
	kernelCache(t, home) // skips without keyctl
	env := func(k string) string { return map[string]string{"HOME": home}[k] }
	for kind, fill := range map[string]bool{"keyring": true, "": true, "file": false} {
		st, err := Open(kind, env, nil)
		if err != nil {
			t.Fatal(err)
		}
		c, ok := st.(*Cached)
		if !ok || c.Fill != fill {
			t.Errorf("Open(%q) = %T (fill %v), want *store.Cached with fill %v", kind, st, ok && c.Fill, fill)
		}
	}
}

// TestKernelCacheInvalidateAllSessions: on the real kernel keyring,
// InvalidateAll removes the copies every session (bus, runtime directory)
// made in the state directory, and no other.
func TestKernelCacheInvalidateAllSessions(t *testing.T) {
	dir := t.TempDir()
	kernelCache(t, dir) // skips without keyctl
	session := func(bus, runtime string) *KernelCache {
		return NewKernelCache(func(k string) string {
			return map[string]string{"DBUS_SESSION_BUS_ADDRESS": bus, "XDG_RUNTIME_DIR": runtime}[k]
		}, dir, time.Now)
	}
	desktop, ssh := session("unix:path=/run/user/1/bus", "/run/user/1"), session("", "/run/user/1")
	other := kernelCache(t, t.TempDir())
	t.Cleanup(func() { desktop.Invalidate("ci"); ssh.Invalidate("ci"); other.Invalidate("ci") })
	for _, c := range []*KernelCache{desktop, ssh, other} {
		put(c, testRecord("ci"))
		keyID(t, c, "ci")
	}
	ssh.InvalidateAll("ci")
	for name, c := range map[string]*KernelCache{"desktop": desktop, "ssh": ssh} {
		if _, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "user", c.description("ci"), 0); err == nil {
			t.Errorf("the %s session's key survived InvalidateAll", name)
		}
	}
	if _, ok := other.Get("ci"); !ok {
		t.Error("InvalidateAll dropped the copy of another state directory")
	}
}
