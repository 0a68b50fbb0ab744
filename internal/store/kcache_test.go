package store

import (
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/secret"
)

// failingKeyctl is keyctl where every call fails, as under a seccomp
// filter or on a kernel without keys.
type failingKeyctl struct{ err error }

func (f failingKeyctl) add(string, []byte) (int, error) { return 0, f.err }
func (f failingKeyctl) search(string) (int, error)      { return 0, f.err }
func (f failingKeyctl) read(int, []byte) (int, error)   { return 0, f.err }
func (f failingKeyctl) setTimeout(int, uint) error      { return f.err }
func (f failingKeyctl) setPerm(int, uint32) error       { return f.err }
func (f failingKeyctl) invalidate(int) error            { return f.err }
func (f failingKeyctl) unlink(int) error                { return f.err }

// memKeyctl is an in-memory user keyring that records timeouts and
// permissions, and can refuse setTimeout as the kernel does for a key
// whose permissions no longer allow it.
type memKeyctl struct {
	next    int
	byDesc  map[string]int
	payload map[int][]byte
	timeout map[int]uint
	perm    map[int]uint32
	failAdd error
}

func newMemKeyctl() *memKeyctl {
	return &memKeyctl{next: 1, byDesc: map[string]int{}, payload: map[int][]byte{}, timeout: map[int]uint{}, perm: map[int]uint32{}}
}

func (m *memKeyctl) add(desc string, b []byte) (int, error) {
	if m.failAdd != nil {
		return 0, m.failAdd
	}
	id, ok := m.byDesc[desc]
	if !ok {
		id = m.next
		m.next++
		m.byDesc[desc] = id
		m.perm[id] = 0x3f010000 // the kernel's default: possessor all, user view
	}
	m.payload[id] = append([]byte(nil), b...)
	delete(m.timeout, id) // an update clears the timeout
	return id, nil
}

func (m *memKeyctl) search(desc string) (int, error) {
	id, ok := m.byDesc[desc]
	if !ok {
		return 0, errNoKey
	}
	return id, nil
}

func (m *memKeyctl) read(id int, buf []byte) (int, error) {
	b, ok := m.payload[id]
	if !ok {
		return 0, errNoKey
	}
	return copy(buf, b), nil
}

func (m *memKeyctl) setTimeout(id int, s uint) error {
	if m.perm[id]&0x20000000 == 0 {
		return syscall.EACCES
	}
	m.timeout[id] = s
	return nil
}

func (m *memKeyctl) setPerm(id int, p uint32) error {
	if m.perm[id]&0x20000000 == 0 {
		return syscall.EACCES
	}
	m.perm[id] = p
	return nil
}

func (m *memKeyctl) invalidate(id int) error {
	for d, i := range m.byDesc {
		if i == id {
			delete(m.byDesc, d)
		}
	}
	delete(m.payload, id)
	return nil
}

func (m *memKeyctl) unlink(id int) error { return m.invalidate(id) }

var errNoKey = errors.New("required key not available")

var testNow = time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC)

func newMemCache() (*KernelCache, *memKeyctl) {
	m := newMemKeyctl()
	return &KernelCache{ns: "test", ops: m, now: func() time.Time { return testNow }}, m
}

// countingStore is a backend that counts its reads.
type countingStore struct {
	Store
	gets int
}

func (c *countingStore) Get(p string) (*Record, error) {
	c.gets++
	return c.Store.Get(p)
}

func TestCacheTTL(t *testing.T) {
	for _, tc := range []struct {
		name  string
		vault *Token
		want  time.Duration
	}{
		{"no vault token", nil, kernelCacheMaxTTL},
		{"long-lived token", &Token{ExpiresAt: testNow.Add(24 * time.Hour)}, kernelCacheMaxTTL},
		{"token expiring soon", &Token{ExpiresAt: testNow.Add(2 * time.Minute)}, 2 * time.Minute},
		{"expired token", &Token{ExpiresAt: testNow.Add(-time.Hour)}, kernelCacheMinTTL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cacheTTL(&Record{Vault: tc.vault}, testNow); got != tc.want {
				t.Errorf("cacheTTL = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestKernelCacheSetsTimeoutAndPerm(t *testing.T) {
	c, m := newMemCache()
	r := testRecord("ci")
	r.Vault.ExpiresAt = testNow.Add(90 * time.Second)
	c.Put(r)
	id, err := m.search(c.description("ci"))
	if err != nil {
		t.Fatalf("not cached: %v", err)
	}
	if m.timeout[id] != 90 || m.perm[id] != cachePerm {
		t.Errorf("timeout %d s, perm %08x; want 90 s, %08x", m.timeout[id], m.perm[id], cachePerm)
	}
	// A second Put updates the key in place, which clears its timeout
	// and may not set it again: the key must be replaced, not left
	// without a timeout.
	r.Vault.ExpiresAt = testNow.Add(time.Hour)
	c.Put(r)
	id, err = m.search(c.description("ci"))
	if err != nil {
		t.Fatalf("not cached after a second Put: %v", err)
	}
	if m.timeout[id] != uint(kernelCacheMaxTTL/time.Second) || m.perm[id] != cachePerm {
		t.Errorf("after a second Put: timeout %d s, perm %08x", m.timeout[id], m.perm[id])
	}
	if got, ok := c.Get("ci"); !ok || !cmp.Equal(got, r) {
		t.Errorf("Get after the second Put: ok=%v diff %s", ok, cmp.Diff(r, got))
	}
}

func TestKernelCacheFailedAddDropsOldCopy(t *testing.T) {
	c, m := newMemCache()
	c.Put(testRecord("ci"))
	m.failAdd = syscall.EDQUOT
	c.Put(testRecord("ci"))
	if _, ok := c.Get("ci"); ok {
		t.Error("a copy survived a Put that could not cache")
	}
}

func TestKernelCacheTooLarge(t *testing.T) {
	c, m := newMemCache()
	c.Put(testRecord("ci"))
	big := testRecord("ci")
	big.RefreshToken = secretOfLen(maxCachedPayload)
	c.Put(big)
	if _, ok := c.Get("ci"); ok || len(m.payload) != 0 {
		t.Errorf("a record larger than a user key can hold: cached=%v, keys %d", ok, len(m.payload))
	}
}

func TestKernelCacheCorruptPayload(t *testing.T) {
	c, m := newMemCache()
	if _, err := m.add(c.description("ci"), []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	back := &countingStore{Store: NewFile(t.TempDir())}
	if err := back.Put(testRecord("ci")); err != nil {
		t.Fatal(err)
	}
	st := &Cached{Store: back, Cache: c, Fill: true}
	got, err := st.Get("ci")
	if err != nil || !cmp.Equal(got, testRecord("ci")) || back.gets != 1 {
		t.Fatalf("Get with a corrupt cached copy: err %v, backend reads %d, diff %s", err, back.gets, cmp.Diff(testRecord("ci"), got))
	}
	if got, ok := c.Get("ci"); !ok || !cmp.Equal(got, testRecord("ci")) {
		t.Errorf("the corrupt copy was not replaced by the backend's record")
	}
}

func TestKernelCacheUnavailable(t *testing.T) {
	for _, err := range []error{syscall.ENOSYS, syscall.EPERM, syscall.EACCES, syscall.EDQUOT} {
		t.Run(err.Error(), func(t *testing.T) {
			back := &countingStore{Store: NewFile(t.TempDir())}
			st := &Cached{Store: back, Cache: &KernelCache{ns: "x", ops: failingKeyctl{err}, now: time.Now}, Fill: true}
			r := testRecord("ci")
			if err := st.Put(r); err != nil {
				t.Fatalf("Put: %v", err)
			}
			got, err := st.Get("ci")
			if err != nil || !cmp.Equal(got, r) || back.gets != 1 {
				t.Errorf("Get: err %v, backend reads %d, diff %s", err, back.gets, cmp.Diff(r, got))
			}
			if err := st.Delete("ci"); err != nil {
				t.Errorf("Delete: %v", err)
			}
			if _, err := st.Get("ci"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get after Delete: %v, want ErrNotFound", err)
			}
		})
	}
}

func TestKernelCacheDisabled(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	home := t.TempDir()
	if c := NewKernelCache(env(map[string]string{"ALILOGIN_KERNEL_CACHE": "off"}), home, time.Now); c != nil {
		t.Error("ALILOGIN_KERNEL_CACHE=off: cache still enabled")
	}
	st, err := Open("keyring", env(map[string]string{"HOME": home, "ALILOGIN_KERNEL_CACHE": "off"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.(*Cached); ok {
		t.Error("ALILOGIN_KERNEL_CACHE=off: Open still wraps the store in the cache")
	}
	var nilCache *KernelCache // disabled: every method a no-op
	nilCache.Put(testRecord("ci"))
	nilCache.Invalidate("ci")
	if _, ok := nilCache.Get("ci"); ok {
		t.Error("a nil cache had a record")
	}
}

func TestKernelCacheNamespace(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	a := kernelCacheNamespace(env(map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=/a"}), "/home/a/.local/state/alilogin")
	for name, b := range map[string]string{
		"other state dir": kernelCacheNamespace(env(map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=/a"}), "/home/b/.local/state/alilogin"),
		"other bus":       kernelCacheNamespace(env(map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=/b"}), "/home/a/.local/state/alilogin"),
	} {
		if a == b {
			t.Errorf("%s: same namespace %s", name, a)
		}
	}
	c := &KernelCache{ns: a}
	if got, want := c.description("ci"), "alilogin:"+a+":ci"; got != want || len(a) != 16 {
		t.Errorf("description = %q, want %q (16 hex digits of namespace)", got, want)
	}
}

func secretOfLen(n int) secret.String { return secret.New(strings.Repeat("x", n)) }
