package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

func (f failingKeyctl) search(string) (int, error)             { return 0, f.err }
func (f failingKeyctl) addPrivate(string, []byte) (int, error) { return 0, f.err }
func (f failingKeyctl) link(int) error                         { return f.err }
func (f failingKeyctl) unlinkPrivate(int) error                { return f.err }
func (f failingKeyctl) read(int, []byte) (int, error)          { return 0, f.err }
func (f failingKeyctl) setTimeout(int, uint) error             { return f.err }
func (f failingKeyctl) setPerm(int, uint32) error              { return f.err }
func (f failingKeyctl) invalidate(int) error                   { return f.err }
func (f failingKeyctl) unlink(int) error                       { return f.err }
func (f failingKeyctl) list() ([]int, error)                   { return nil, f.err }
func (f failingKeyctl) describe(int) (string, error)           { return "", f.err }

// memKeyctl is an in-memory user keyring that records timeouts and
// permissions, and can refuse setTimeout as the kernel does for a key
// whose permissions no longer allow it.
type memKeyctl struct {
	next    int
	byDesc  map[string]int // the user keyring
	private map[int]string // the process keyring: id → description
	payload map[int][]byte
	timeout map[int]uint
	perm    map[int]uint32
	failAdd error
}

func newMemKeyctl() *memKeyctl {
	return &memKeyctl{next: 1, byDesc: map[string]int{}, private: map[int]string{}, payload: map[int][]byte{}, timeout: map[int]uint{}, perm: map[int]uint32{}}
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

// addPrivate makes a new key in the process keyring (alilogin unlinks
// its keys from there at once, so there is never one to update).
func (m *memKeyctl) addPrivate(desc string, b []byte) (int, error) {
	if m.failAdd != nil {
		return 0, m.failAdd
	}
	id := m.next
	m.next++
	m.private[id] = desc
	m.perm[id] = 0x3f010000
	m.payload[id] = append([]byte(nil), b...)
	return id, nil
}

func (m *memKeyctl) link(id int) error {
	desc, ok := m.private[id]
	if !ok {
		return errNoKey
	}
	if old, ok := m.byDesc[desc]; ok && old != id {
		delete(m.payload, old) // displaced, and referenced nowhere else
	}
	m.byDesc[desc] = id
	return nil
}

func (m *memKeyctl) unlinkPrivate(id int) error {
	delete(m.private, id)
	return nil
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

func (m *memKeyctl) list() ([]int, error) {
	var ids []int
	for _, id := range m.byDesc {
		ids = append(ids, id)
	}
	return ids, nil
}

func (m *memKeyctl) describe(id int) (string, error) {
	for d, i := range m.byDesc {
		if i == id {
			return fmt.Sprintf("user;0;0;%08x;%s", m.perm[id], d), nil
		}
	}
	return "", errNoKey
}

var errNoKey = errors.New("required key not available")

var testNow = time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC)

// newMemCache is a cache on an in-memory keyring, in a state directory
// of its own (where its generations are kept).
func newMemCache(t *testing.T) (*KernelCache, *memKeyctl) {
	return newMemCacheIn(t, t.TempDir(), "test", newMemKeyctl())
}

// newMemCacheIn is the cache of a session ns of the store in stateDir,
// on the keyring m that every session of the user shares.
func newMemCacheIn(t *testing.T, stateDir, ns string, m *memKeyctl) (*KernelCache, *memKeyctl) {
	t.Helper()
	return &KernelCache{state: kernelCacheState(stateDir), ns: kernelCacheNamespace(func(string) string { return ns }),
		gens: generations{dir: filepath.Join(stateDir, "kcache")}, ops: m, now: func() time.Time { return testNow }}, m
}

// put caches r under the current generation.
func put(c *KernelCache, r *Record) { c.Put(r, c.Generation(r.Profile)) }

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
	c, m := newMemCache(t)
	r := testRecord("ci")
	r.Vault.ExpiresAt = testNow.Add(90 * time.Second)
	put(c, r)
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
	put(c, r)
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
	c, m := newMemCache(t)
	put(c, testRecord("ci"))
	m.failAdd = syscall.EDQUOT
	put(c, testRecord("ci"))
	if _, ok := c.Get("ci"); ok {
		t.Error("a copy survived a Put that could not cache")
	}
}

func TestKernelCacheTooLarge(t *testing.T) {
	c, m := newMemCache(t)
	put(c, testRecord("ci"))
	big := testRecord("ci")
	big.RefreshToken = secretOfLen(maxCachedPayload)
	put(c, big)
	if _, ok := c.Get("ci"); ok || len(m.payload) != 0 {
		t.Errorf("a record larger than a user key can hold: cached=%v, keys %d", ok, len(m.payload))
	}
}

func TestKernelCacheCorruptPayload(t *testing.T) {
	c, m := newMemCache(t)
	if _, err := m.add(c.description("ci"), []byte("gen:"+string(c.Generation("ci"))+"\n{not json")); err != nil {
		t.Fatal(err)
	}
	back := &countingStore{Store: NewFile(t.TempDir())}
	mustPut(t, back, testRecord("ci"))
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
			st := &Cached{Store: back, Cache: &KernelCache{ns: "x", gens: generations{dir: t.TempDir()}, ops: failingKeyctl{err}, now: time.Now}, Fill: true}
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
	if !KernelCacheOff(env(map[string]string{"ALILOGIN_KERNEL_CACHE": "off"})) || KernelCacheOff(env(nil)) {
		t.Error("KernelCacheOff does not follow ALILOGIN_KERNEL_CACHE")
	}
	st, err := Open("keyring", env(map[string]string{"HOME": home, "ALILOGIN_KERNEL_CACHE": "off"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Off: nothing served or filled, but the store still bumps
	// generations and drops copies on writes and deletes (where the
	// platform has keyctl).
	if c, ok := st.(*Cached); ok && c.Fill {
		t.Error("ALILOGIN_KERNEL_CACHE=off: the cache still fills")
	}
	var nilCache *KernelCache // disabled: every method a no-op
	nilCache.Put(testRecord("ci"), Gen("0123456789abcdef0123456789abcdef"))
	nilCache.InvalidateAll("ci")
	if g, err := nilCache.Bump("ci"); g != "" || err != nil {
		t.Errorf("a nil cache bumped to %q, %v", g, err)
	}
	nilCache.Invalidate("ci")
	if _, ok := nilCache.Get("ci"); ok {
		t.Error("a nil cache had a record")
	}
}

func TestKernelCacheNamespace(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	a := kernelCacheNamespace(env(map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=/a"}))
	if b := kernelCacheNamespace(env(map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=/b"})); a == b {
		t.Errorf("other bus: same namespace %s", a)
	}
	if b := kernelCacheNamespace(env(map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=/a", "XDG_RUNTIME_DIR": "/run/user/1"})); a == b {
		t.Errorf("other runtime directory: same namespace %s", a)
	}
	s := kernelCacheState("/home/a/.local/state/alilogin")
	if o := kernelCacheState("/home/b/.local/state/alilogin"); s == o {
		t.Errorf("other state dir: same hash %s", s)
	}
	c := &KernelCache{state: s, ns: a}
	if got, want := c.description("ci"), "alilogin:"+s+":"+a+":ci"; got != want || len(a) != 16 || len(s) != 16 {
		t.Errorf("description = %q, want %q (16 hex digits each)", got, want)
	}
	for desc, want := range map[string]bool{
		"alilogin:" + s + ":" + a + ":ci":          true,
		"alilogin:" + s + ":0123456789abcdef:ci":   true,  // another session
		"alilogin:0123456789abcdef:ci":             true,  // an earlier version's copy
		"alilogin:" + s + ":" + a + ":ci2":         false, // another profile
		"alilogin:fedcba9876543210:" + a + ":ci":   false, // another state dir
		"alilogin:" + s + ":" + a + ":x:ci":        false,
		"other:" + s + ":" + a + ":ci":             false,
		"alilogin:" + s + ":not-a-hash-at-all!:ci": false,
	} {
		if got := c.isCopyOf(desc, "ci", false); got != want {
			t.Errorf("isCopyOf(%q) = %v, want %v", desc, got, want)
		}
	}
	for desc, want := range map[string]bool{
		"alilogin:" + s + ":" + a + ":ci":                 true,
		"alilogin:fedcba9876543210:" + a + ":ci":          true, // another state dir
		"alilogin:fedcba9876543210:" + a + ":ci2":         false,
		"alilogin:not-a-hash-at-all!:" + a + ":ci":        false,
		"alilogin:fedcba9876543210:not-a-hash-at-all!:ci": false,
	} {
		if got := c.isCopyOf(desc, "ci", true); got != want {
			t.Errorf("isCopyOf(%q, any state) = %v, want %v", desc, got, want)
		}
	}
}

func secretOfLen(n int) secret.String { return secret.New(strings.Repeat("x", n)) }

// sessions returns the stores of two sessions of one user on one state
// directory and one keyring backend (the desktop's, reached by an SSH
// session through $XDG_RUNTIME_DIR/bus), each with its own cache
// namespace, on the kernel keyring they share.
func sessions(t *testing.T) (desktop, ssh *Cached, m *memKeyctl) {
	t.Helper()
	dir := t.TempDir()
	m = newMemKeyctl()
	back := NewFile(filepath.Join(dir, "records"))
	dc, _ := newMemCacheIn(t, dir, "unix:path=/run/user/1000/bus", m)
	sc, _ := newMemCacheIn(t, dir, "/run/user/1000", m)
	return &Cached{Store: back, Cache: dc, Fill: true}, &Cached{Store: back, Cache: sc, Fill: true}, m
}

// TestKernelCacheLogoutFromOtherSession: a logout (Delete) in one session
// leaves no copy another session can serve, and no key of the profile at
// all.
func TestKernelCacheLogoutFromOtherSession(t *testing.T) {
	desktop, ssh, m := sessions(t)
	mustPut(t, desktop, testRecord("ci"))
	if err := desktop.Put(testRecord("other")); err != nil {
		t.Fatal(err)
	}
	if _, err := ssh.Get("ci"); err != nil { // the SSH session caches its own copy too
		t.Fatal(err)
	}
	if _, ok := desktop.Lookup("ci"); !ok {
		t.Fatal("the desktop session has no cached copy to begin with")
	}
	if err := ssh.Delete("ci"); err != nil {
		t.Fatal(err)
	}
	if r, ok := desktop.Lookup("ci"); ok {
		t.Errorf("the desktop session serves a copy of the logged-out record: %+v", r)
	}
	if _, err := desktop.Get("ci"); !errors.Is(err, ErrNotFound) {
		t.Errorf("desktop Get after the SSH logout: %v, want ErrNotFound", err)
	}
	for d := range m.byDesc {
		if strings.HasSuffix(d, ":ci") {
			t.Errorf("key %q left after the logout", d)
		}
	}
	if _, ok := desktop.Lookup("other"); !ok {
		t.Error("the logout of ci dropped the copy of another profile")
	}
}

// TestKernelCacheFillRacingDelete: a process that read the record from
// the backend before a logout and caches it after (as a slow `alilogin
// token` may) leaves a copy that is never served.
func TestKernelCacheFillRacingDelete(t *testing.T) {
	desktop, ssh, _ := sessions(t)
	mustPut(t, ssh, testRecord("ci"))
	g := desktop.Generation("ci")
	r, err := desktop.Store.Get("ci") // read before the logout...
	if err != nil {
		t.Fatal(err)
	}
	if err := ssh.Delete("ci"); err != nil {
		t.Fatal(err)
	}
	desktop.Remember(r, g) // ...cached after it
	if _, ok := desktop.Lookup("ci"); ok {
		t.Error("a copy filled from before the logout is served")
	}
}

// TestKernelCacheWriteInOtherSession: a write (a renewal, a new login) in
// one session makes the other sessions' copies unusable, so none of them
// serves tokens that were replaced and revoked.
func TestKernelCacheWriteInOtherSession(t *testing.T) {
	desktop, ssh, _ := sessions(t)
	mustPut(t, desktop, testRecord("ci"))
	r2 := testRecord("ci")
	r2.Nomad.Secret = secret.New("nomad-secret-2")
	mustPut(t, ssh, r2)
	if _, ok := desktop.Lookup("ci"); ok {
		t.Error("the desktop session serves its copy from before the SSH session's write")
	}
	if got, err := desktop.Get("ci"); err != nil || !got.Nomad.Secret.Equal(secret.New("nomad-secret-2")) {
		t.Errorf("desktop Get: %v, %v", got, err)
	}
	if _, ok := desktop.Lookup("ci"); !ok {
		t.Error("the desktop session did not cache the new record")
	}
}

// TestKernelCacheCopyWithoutGeneration: a copy in the earlier format,
// with no generation, is not served.
func TestKernelCacheCopyWithoutGeneration(t *testing.T) {
	c, m := newMemCache(t)
	b, err := encode(testRecord("ci"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.add(c.description("ci"), b); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get("ci"); ok {
		t.Error("a copy without a generation was served")
	}
}

// TestCachedOffStillInvalidates: with the cache off (Fill false), a
// delete still makes every session's copy unusable.
func TestCachedOffStillInvalidates(t *testing.T) {
	desktop, ssh, _ := sessions(t)
	mustPut(t, desktop, testRecord("ci"))
	ssh.Fill = false
	if err := ssh.Delete("ci"); err != nil {
		t.Fatal(err)
	}
	if _, ok := desktop.Lookup("ci"); ok {
		t.Error("a copy survived a delete with the cache off")
	}
}

// killedKeyctl is keyctl in a process killed right after its add_key:
// nothing after it runs (the process keyring dies with the process).
type killedKeyctl struct{ *memKeyctl }

type killed struct{}

func (k killedKeyctl) add(d string, b []byte) (int, error) {
	_, _ = k.memKeyctl.add(d, b)
	panic(killed{})
}

func (k killedKeyctl) addPrivate(d string, b []byte) (int, error) {
	_, _ = k.memKeyctl.addPrivate(d, b)
	panic(killed{})
}

// TestKernelCacheKilledWhileStoring: a process killed between add_key
// and setting the timeout leaves no copy without a timeout in the user
// keyring. add_key onto an existing copy updates it in place and clears
// its expiry: that copy would then live until a logout or a reboot.
func TestKernelCacheKilledWhileStoring(t *testing.T) {
	c, m := newMemCache(t)
	put(c, testRecord("ci")) // the copy a previous `token` made, with its timeout
	c.ops = killedKeyctl{m}
	func() {
		defer func() {
			if _, ok := recover().(killed); !ok {
				t.Fatal("the store did not call add_key")
			}
		}()
		put(c, testRecord("ci"))
	}()
	for desc, id := range m.byDesc {
		if _, ok := m.timeout[id]; !ok {
			t.Errorf("key %q is in the user keyring without a timeout", desc)
		}
	}
}

// unwritableGeneration makes the profile's generation file impossible to
// replace while stat(2) still sees a stable identity: what a full disk
// (ENOSPC), an exhausted AFS/NFS quota (EDQUOT, common for CERN home
// directories) or a read-only state directory do to atomicfile.Write.
// Here a directory that is not empty stands at the file's path, so the
// rename fails with EISDIR and the path cannot be removed either (as in
// a read-only state directory); Bump then returns a *GenerationError.
func unwritableGeneration(t *testing.T, c *Cached, profile string) {
	t.Helper()
	p := c.Cache.gens.path(profile)
	_ = os.Remove(p)
	if err := os.MkdirAll(filepath.Join(p, "keep"), 0o700); err != nil {
		t.Fatal(err)
	}
	var ge *GenerationError
	if g, err := c.Cache.Bump(profile); g != "" || !errors.As(err, &ge) || ge.Removed {
		t.Fatalf("bump: %q, %v", g, err)
	}
}

// TestWriteWithoutNewGenerationDropsOtherSessionsCopy: a renewal
// (or a new login) in the SSH session cannot write the generation; the
// write goes on, the backend holds the new record, and the desktop keeps
// serving its copy of the old one, whose leases the renewal replaced and
// revoked, for up to ten minutes. Put should then drop every session's
// copy (InvalidateAll), as Delete does.
func TestWriteWithoutNewGenerationDropsOtherSessionsCopy(t *testing.T) {
	desktop, ssh, _ := sessions(t)
	unwritableGeneration(t, ssh, "ci")
	mustPut(t, desktop, testRecord("ci"))
	if _, err := desktop.Get("ci"); err != nil { // a later `token` caches it
		t.Fatal(err)
	}
	r2 := testRecord("ci")
	r2.Nomad.Secret = secret.New("nomad-secret-2")
	mustPut(t, ssh, r2)
	if got, ok := desktop.Lookup("ci"); ok && !got.Nomad.Secret.Equal(r2.Nomad.Secret) {
		t.Errorf("after the SSH session's write, the desktop serves its copy of the replaced record")
	}
}

// TestLogoutWithoutNewGenerationRacingFillServesNoCopy: the same failure during
// a logout. A `token` in the desktop read the record before the logout
// and caches it after (TestKernelCacheFillRacingDelete's race); with no
// new generation its copy carries the current one and is served after
// "logged out", to every process of the desktop session.
func TestLogoutWithoutNewGenerationRacingFillServesNoCopy(t *testing.T) {
	desktop, ssh, _ := sessions(t)
	unwritableGeneration(t, ssh, "ci")
	mustPut(t, ssh, testRecord("ci"))
	g := desktop.Generation("ci")
	r, err := desktop.Store.Get("ci") // read before the logout...
	if err != nil {
		t.Fatal(err)
	}
	var ge *GenerationError
	if err := ssh.Delete("ci"); !errors.As(err, &ge) { // the logout must learn it
		t.Fatalf("Delete: %v, want a *GenerationError", err)
	}
	desktop.Remember(r, g) // ...cached after it
	if _, ok := desktop.Lookup("ci"); ok {
		t.Error("a copy filled from before the logout is served: the logout could not write a new generation and said nothing")
	}
}

// TestLogoutFromAnotherStateDirDropsSharedKeyringCopies: two shells of one
// desktop session share the Secret Service (the backend) but not
// XDG_STATE_HOME (a flatpak or snap terminal, a .profile that sets it
// for login shells only, a systemd user unit). A logout in one deletes
// the keyring item for both, but drops and bumps only the copies and
// generation of its own state directory: the other shell's kernel copy
// of the logged-out record is served for up to ten minutes (status says
// logged in; token prints the revoked, or, when the revocation failed,
// still live token). The two shells do not share a lock either.
func TestLogoutFromAnotherStateDirDropsSharedKeyringCopies(t *testing.T) {
	m := newMemKeyctl()
	back := &Keyring{api: &memKeyring{items: map[string]string{}}, timeout: time.Second} // one Secret Service
	dc, _ := newMemCacheIn(t, t.TempDir(), "unix:path=/run/user/1000/bus", m)
	oc, _ := newMemCacheIn(t, t.TempDir(), "unix:path=/run/user/1000/bus", m)
	desktop := &Cached{Store: back, Cache: dc, Fill: true}
	other := &Cached{Store: back, Cache: oc, Fill: true}
	mustPut(t, desktop, testRecord("ci"))
	if err := other.Delete("ci"); err != nil {
		t.Fatal(err)
	}
	if _, err := back.Get("ci"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("backend after logout: %v", err)
	}
	if _, ok := desktop.Lookup("ci"); ok {
		t.Error("the other shell serves a kernel copy of the logged-out record")
	}
}

// TestRemovedGenerationRevivesNoOldCopy: "none" is a generation like
// any other, so a copy made while there was no generation file (the
// first `token` after an upgrade, or after the state directory was
// cleaned) becomes servable again whenever the file disappears: a
// renewal elsewhere bumped the generation (the copy stopped being
// served), then the kcache/ folder is removed (a cleanup of
// ~/.local/state, a tmp reaper when XDG_STATE_HOME is under /tmp) and
// the replaced record's copy is served once more. A missing file should
// serve nothing once copies can exist (e.g. create the file before the
// first copy is cached, and treat ENOENT as "").
func TestRemovedGenerationRevivesNoOldCopy(t *testing.T) {
	desktop, ssh, _ := sessions(t)
	mustPut(t, desktop.Store, testRecord("ci"))  // written by an earlier version
	if _, err := desktop.Get("ci"); err != nil { // cached under "none"
		t.Fatal(err)
	}
	r2 := testRecord("ci")
	r2.Nomad.Secret = secret.New("nomad-secret-2")
	mustPut(t, ssh, r2) // renewal in the SSH session
	// (The desktop runs nothing meanwhile: a Lookup now would find the
	// copy's generation old and remove it.)
	if err := os.RemoveAll(ssh.Cache.gens.dir); err != nil {
		t.Fatal(err)
	}
	if got, ok := desktop.Lookup("ci"); ok && !got.Nomad.Secret.Equal(r2.Nomad.Secret) {
		t.Error("with the generation file gone, the desktop serves its old copy of the replaced record again")
	}
}
