package store

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// KernelCache is a short-lived copy of records in the Linux kernel's key
// retention service (keyctl), in front of the Secret Service: a cached
// `alilogin token` then costs one search and one read system call (~20
// µs) instead of three D-Bus exchanges with gnome-keyring (1.2-1.8 ms).
// It is an OS keyring too: per uid, in kernel memory only, never on disk;
// aws-vault's keyctl backend (99designs/keyring) is the precedent.
//
// Each record is a "user" key in the user keyring (KEY_SPEC_USER_KEYRING,
// shared by all processes of the uid), named by description, holding the
// same wire bytes as the keyring item. Possessor and user may view, read,
// write and search it, group and other nothing (cachePerm); it expires
// after cacheTTL. The kernel cache is only a cache: any keyctl failure
// (no keyctl, a seccomp filter, the key quota, a record too large) makes
// it a miss or a no-op, and the backend stays the one source of truth.
//
// A nil *KernelCache is a disabled one: every method is a no-op.
type KernelCache struct {
	ns  string // the store instance's hash, see kernelCacheNamespace
	ops keyctlOps
	now func() time.Time
}

// keyctlOps is what the cache needs of keyctl(2); kcache_linux.go has the
// real one, tests a failing or recording one.
type keyctlOps interface {
	add(desc string, payload []byte) (id int, err error) // add_key, or update the existing key in place
	search(desc string) (id int, err error)
	read(id int, buf []byte) (n int, err error) // n is the payload's length, even when larger than buf
	setTimeout(id int, seconds uint) error
	setPerm(id int, perm uint32) error
	invalidate(id int) error
	unlink(id int) error // from the user keyring
}

const (
	// cachePerm: possessor and user view, read, write and search
	// (KEY_POS_* and KEY_USR_* 0x01|0x02|0x04|0x08); no setattr, so the
	// permissions and timeout cannot be widened later; nothing for
	// group and other.
	cachePerm uint32 = 0x0f0f0000

	// kernelCacheMaxTTL bounds how long a cached record lives. The copy
	// is refreshed on every write through alilogin; the bound limits how
	// long a copy made stale by a writer alilogin does not see (another
	// version, a race of a read with a logout in another process) can be
	// served. A miss costs one Secret Service read.
	kernelCacheMaxTTL = 10 * time.Minute
	// kernelCacheMinTTL: a record whose Vault token has (nearly) expired
	// is still cached briefly; the renewal chain replaces it anyway.
	kernelCacheMinTTL = 5 * time.Second

	// maxCachedPayload is the kernel's limit for a "user" key's payload;
	// a larger record is not cached. Smaller ones may still exceed the
	// uid's quota (kernel.keys.maxbytes, 20000 bytes by default): add_key
	// then fails with EDQUOT and the record is simply not cached.
	maxCachedPayload = 32767
)

// NewKernelCache returns the kernel cache of the store whose files are in
// stateDir, or nil (disabled) when ALILOGIN_KERNEL_CACHE is "off" or the
// platform has no keyctl.
func NewKernelCache(getenv func(string) string, stateDir string, now func() time.Time) *KernelCache {
	switch strings.ToLower(getenv("ALILOGIN_KERNEL_CACHE")) {
	case "off", "0", "false", "no":
		return nil
	}
	ops := systemKeyctl()
	if ops == nil {
		return nil
	}
	return &KernelCache{ns: kernelCacheNamespace(getenv, stateDir), ops: ops, now: now}
}

// kernelCacheNamespace hashes what identifies a store instance: the state
// directory (the file store), the keyring service name and the session
// bus (the Secret Service). Two instances that differ in any of them, such
// as tests with their own HOME or bus, never see each other's entries.
func kernelCacheNamespace(getenv func(string) string, stateDir string) string {
	h := sha256.New()
	for _, s := range []string{stateDir, keyringService, getenv("DBUS_SESSION_BUS_ADDRESS"), getenv("XDG_RUNTIME_DIR")} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// description is the one place that names kernel keys:
// "alilogin:<namespace>:<profile>".
func (c *KernelCache) description(profile string) string {
	return "alilogin:" + c.ns + ":" + profile
}

// cacheTTL is how long r stays cached: until its Vault token expires
// (nothing it holds outlives that token), at most kernelCacheMaxTTL and at
// least kernelCacheMinTTL.
func cacheTTL(r *Record, now time.Time) time.Duration {
	d := kernelCacheMaxTTL
	if r.Vault != nil && !r.Vault.ExpiresAt.IsZero() {
		d = min(d, r.Vault.ExpiresAt.Sub(now))
	}
	return max(d, kernelCacheMinTTL)
}

// Get returns the cached record; ok is false on a miss, on any keyctl
// error and for a payload that does not decode (which is then dropped).
func (c *KernelCache) Get(profile string) (r *Record, ok bool) {
	if c == nil || checkProfile(profile) != nil {
		return nil, false
	}
	id, err := c.ops.search(c.description(profile))
	if err != nil {
		return nil, false
	}
	buf := make([]byte, maxCachedPayload+1)
	n, err := c.ops.read(id, buf)
	if err != nil || n < 0 || n > len(buf) {
		return nil, false
	}
	r, err = decode(profile, "the kernel keyring cache", buf[:n])
	if err != nil {
		c.remove(id)
		return nil, false
	}
	return r, true
}

// Put caches r, replacing any earlier copy; when it cannot, it makes sure
// no earlier copy is left.
func (c *KernelCache) Put(r *Record) {
	if c == nil || checkProfile(r.Profile) != nil {
		return
	}
	b, err := encode(r)
	if err != nil || len(b) > maxCachedPayload || !c.store(c.description(r.Profile), b, cacheTTL(r, c.now())) {
		c.Invalidate(r.Profile)
	}
}

// store adds the key, then sets its timeout and, last, its permissions
// (which take away the right to change either). add_key on a description
// that exists updates that key in place and clears its timeout, which our
// permissions then forbid setting again: such a key, or one this process
// does not possess, is removed, and a new one added once more.
func (c *KernelCache) store(desc string, b []byte, ttl time.Duration) bool {
	secs := uint((ttl + time.Second - 1) / time.Second)
	for range 2 {
		id, err := c.ops.add(desc, b)
		if err != nil {
			return false
		}
		if c.ops.setTimeout(id, secs) == nil {
			if c.ops.setPerm(id, cachePerm) == nil {
				return true
			}
			c.remove(id)
			return false
		}
		c.remove(id)
	}
	return false
}

// Invalidate drops the profile's cached record, if any.
func (c *KernelCache) Invalidate(profile string) {
	if c == nil || checkProfile(profile) != nil {
		return
	}
	if id, err := c.ops.search(c.description(profile)); err == nil {
		c.remove(id)
	}
}

// remove invalidates the key (gone for every process at once), else
// unlinks it from the user keyring (gone from searches).
func (c *KernelCache) remove(id int) {
	if c.ops.invalidate(id) != nil {
		_ = c.ops.unlink(id)
	}
}
