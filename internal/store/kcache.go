package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"
	"time"
)

// KernelCache is a short-lived copy of records in the Linux kernel's key
// retention service (keyctl), in front of the Secret Service: a cached
// `alilogin token` then costs one stat, one search and one read system
// call (~20 µs) instead of three D-Bus exchanges with gnome-keyring
// (1.2-1.8 ms). It is an OS keyring too: per uid, in kernel memory only,
// never on disk; aws-vault's keyctl backend (99designs/keyring) is the
// precedent.
//
// Each record is a "user" key in the user keyring (KEY_SPEC_USER_KEYRING,
// shared by all processes of the uid, whatever their login session),
// named by description, holding the profile's generation and the same
// wire bytes as the keyring item. Possessor and user may view, read,
// write and search it, group and other nothing (cachePerm); it expires
// after cacheTTL. The kernel cache is only a cache: any keyctl failure
// (no keyctl, a seccomp filter, the key quota, a record too large) makes
// it a miss or a no-op, and the backend stays the one source of truth.
//
// Generations: every write and delete through alilogin gives the profile
// a new generation, a file in the state directory that every session of
// the user sees (kcache_gen.go). A copy is served only when it was made
// under the current generation, so a logout or a renewal in one session
// (an SSH login, say) makes the copies every other session (the desktop)
// made unusable at once, even one that a process still filling the cache
// adds afterwards; Delete also removes them all (InvalidateAll), and,
// when the backend is the Secret Service (which stores with another state
// directory, another XDG_STATE_HOME, may share), those of every state
// directory (InvalidateEveryState). A missing generation file serves
// nothing, and a generation that cannot be written turns the cache off
// for the profile (kcache_gen.go).
//
// A nil *KernelCache is a disabled one: every method is a no-op.
type KernelCache struct {
	state string // hash of the state directory, see kernelCacheState
	ns    string // hash of the session's Secret Service, see kernelCacheNamespace
	gens  generations
	ops   keyctlOps
	now   func() time.Time
}

// keyctlOps is what the cache needs of keyctl(2); kcache_linux.go has the
// real one, tests a failing or recording one.
type keyctlOps interface {
	addPrivate(desc string, payload []byte) (id int, err error) // add_key to the process keyring, seen by no other process
	link(id int) error                                          // into the user keyring, displacing a key of the same description
	unlinkPrivate(id int) error                                 // from the process keyring
	search(desc string) (id int, err error)
	read(id int, buf []byte) (n int, err error) // n is the payload's length, even when larger than buf
	setTimeout(id int, seconds uint) error
	setPerm(id int, perm uint32) error
	invalidate(id int) error
	unlink(id int) error             // from the user keyring
	list() ([]int, error)            // the keys linked in the user keyring
	describe(id int) (string, error) // "type;uid;gid;perm;description"
}

const (
	// cachePerm: possessor and user view, read, write and search
	// (KEY_POS_* and KEY_USR_* 0x01|0x02|0x04|0x08); no setattr, so the
	// permissions and timeout cannot be widened later; nothing for
	// group and other.
	cachePerm uint32 = 0x0f0f0000

	// kernelCacheMaxTTL bounds how long a cached record lives. The copy
	// is refreshed on every write through alilogin, and the generation
	// makes every other copy unusable; the bound limits how long a copy
	// made stale by a writer alilogin does not see (another version,
	// a change made straight in the Secret Service) can be served. A
	// miss costs one Secret Service read.
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

// KernelCacheOff reports whether ALILOGIN_KERNEL_CACHE turns the cache
// off: nothing is then served from it or added to it, but writes and
// deletes still make earlier copies unusable.
func KernelCacheOff(getenv func(string) string) bool {
	switch strings.ToLower(getenv("ALILOGIN_KERNEL_CACHE")) {
	case "off", "0", "false", "no":
		return true
	}
	return false
}

// NewKernelCache returns the kernel cache of the store whose files are in
// stateDir, or nil (disabled) when the platform has no keyctl.
func NewKernelCache(getenv func(string) string, stateDir string, now func() time.Time) *KernelCache {
	ops := systemKeyctl()
	if ops == nil {
		return nil
	}
	return &KernelCache{state: kernelCacheState(stateDir), ns: kernelCacheNamespace(getenv), gens: generations{dir: filepath.Join(stateDir, "kcache")}, ops: ops, now: now}
}

func shortHash(parts ...string) string {
	h := sha256.New()
	for _, s := range parts {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// kernelCacheState hashes what identifies the user's logins: the state
// directory (the file store, the locks and the generations) and the
// keyring service name. Stores with another state directory, such as
// tests with their own HOME, never see each other's entries.
func kernelCacheState(stateDir string) string { return shortHash(stateDir, keyringService) }

// kernelCacheNamespace hashes what identifies the session's Secret
// Service: the session bus and the runtime directory. Sessions on
// different buses cache apart (their keyrings may hold different
// records); a logout drops the copies of all of them.
func kernelCacheNamespace(getenv func(string) string) string {
	return shortHash(getenv("DBUS_SESSION_BUS_ADDRESS"), getenv("XDG_RUNTIME_DIR"))
}

// description is the one place that names kernel keys:
// "alilogin:<state>:<namespace>:<profile>".
func (c *KernelCache) description(profile string) string {
	return "alilogin:" + c.state + ":" + c.ns + ":" + profile
}

// isCopyOf reports whether a key description names a cached copy of
// profile in c's state directory (or, with anyState, in any state
// directory), made by any session; and also the
// "alilogin:<namespace>:<profile>" copies of earlier versions, which
// served them without a generation.
func (c *KernelCache) isCopyOf(desc, profile string, anyState bool) bool {
	rest, ok := strings.CutPrefix(desc, "alilogin:")
	if !ok {
		return false
	}
	rest, ok = strings.CutSuffix(rest, ":"+profile)
	if !ok {
		return false
	}
	if state, mid, ok := strings.Cut(rest, ":"); ok {
		return (state == c.state || anyState && isHash(state)) && isHash(mid)
	}
	return isHash(rest) // an earlier version's
}

func isHash(s string) bool {
	if len(s) != 16 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
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

// Generation is the profile's current generation, to pass to Put with
// a record read from the backend after it; when the profile has none yet
// (or its file was removed), a new one is written first. "" when none
// can be written: Put then caches nothing.
func (c *KernelCache) Generation(profile string) Gen {
	if c == nil || checkProfile(profile) != nil {
		return ""
	}
	return c.gens.forFill(profile)
}

// Bump gives the profile a new generation, after a write or a delete of
// its record, and returns it. When it cannot, the error is a
// *GenerationError, the old generation file is removed if possible, and
// the caller must drop every copy (InvalidateAll).
func (c *KernelCache) Bump(profile string) (Gen, error) {
	if c == nil || checkProfile(profile) != nil {
		return "", nil
	}
	return c.gens.bump(profile)
}

// Get returns the cached record; ok is false on a miss, on any keyctl
// error, for a copy of another generation than the current one and for
// a payload that does not decode (both then dropped).
func (c *KernelCache) Get(profile string) (r *Record, ok bool) {
	if c == nil || checkProfile(profile) != nil {
		return nil, false
	}
	g := c.gens.current(profile)
	if g == "" {
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
	b, ok := cutGeneration(buf[:n], g)
	if !ok {
		c.remove(id)
		return nil, false
	}
	r, err = decode(profile, "the kernel keyring cache", b)
	if err != nil {
		c.remove(id)
		return nil, false
	}
	return r, true
}

// Put caches r as read or written under generation g, replacing any
// earlier copy of this session; when it cannot, it makes sure no earlier
// copy of this session is left.
func (c *KernelCache) Put(r *Record, g Gen) {
	if c == nil || checkProfile(r.Profile) != nil {
		return
	}
	if g == "" {
		c.Invalidate(r.Profile)
		return
	}
	b, err := encode(r)
	if err != nil {
		c.Invalidate(r.Profile)
		return
	}
	b = append([]byte(genPrefix+string(g)+"\n"), b...)
	if len(b) > maxCachedPayload || !c.store(c.description(r.Profile), b, cacheTTL(r, c.now())) {
		c.Invalidate(r.Profile)
	}
}

// genPrefix starts a cached copy: "gen:<generation>\n", then the record.
const genPrefix = "gen:"

// cutGeneration returns the record bytes of a cached copy made under
// generation g; ok is false for any other generation, or none.
func cutGeneration(b []byte, g Gen) ([]byte, bool) {
	head, rest, ok := bytes.Cut(b, []byte("\n"))
	if !ok {
		return nil, false
	}
	got, ok := bytes.CutPrefix(head, []byte(genPrefix))
	if !ok || string(got) != string(g) {
		return nil, false
	}
	return rest, true
}

// store makes the key in the process keyring, where no other process
// sees it, sets its timeout there, then links it into the user keyring
// (which displaces the earlier copy at once) and, last, sets its
// permissions (which take away the right to change the timeout). So the
// user keyring never holds a copy without a timeout, even if the
// process is killed halfway; add_key straight into the user keyring
// would update an existing copy in place and clear its timeout, and
// keyctl has no way to add a key with a timeout in one call.
func (c *KernelCache) store(desc string, b []byte, ttl time.Duration) bool {
	secs := uint((ttl + time.Second - 1) / time.Second)
	id, err := c.ops.addPrivate(desc, b)
	if err != nil {
		return false
	}
	defer func() { _ = c.ops.unlinkPrivate(id) }()
	if c.ops.setTimeout(id, secs) != nil {
		_ = c.ops.invalidate(id)
		return false
	}
	if c.ops.link(id) != nil {
		_ = c.ops.invalidate(id)
		return false
	}
	if c.ops.setPerm(id, cachePerm) != nil {
		c.remove(id)
		return false
	}
	return true
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

// InvalidateAll drops every cached copy of the profile's record in this
// state directory, whatever session (bus, runtime directory) made it.
func (c *KernelCache) InvalidateAll(profile string) { c.invalidateAll(profile, false) }

// InvalidateEveryState drops every cached copy of the profile's record
// of this user, whatever state directory and session made it: the copies
// of stores that share this one's Secret Service but not its state
// directory (another XDG_STATE_HOME), whose generations it cannot bump.
func (c *KernelCache) InvalidateEveryState(profile string) { c.invalidateAll(profile, true) }

func (c *KernelCache) invalidateAll(profile string, anyState bool) {
	if c == nil || checkProfile(profile) != nil {
		return
	}
	c.Invalidate(profile)
	ids, err := c.ops.list()
	if err != nil {
		return
	}
	for _, id := range ids {
		d, err := c.ops.describe(id)
		if err != nil {
			continue
		}
		f := strings.SplitN(d, ";", 5)
		if len(f) == 5 && f[0] == "user" && c.isCopyOf(f[4], profile, anyState) {
			c.remove(id)
		}
	}
}

// remove invalidates the key (gone for every process at once), else
// unlinks it from the user keyring (gone from searches).
func (c *KernelCache) remove(id int) {
	if c.ops.invalidate(id) != nil {
		_ = c.ops.unlink(id)
	}
}
