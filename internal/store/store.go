package store

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Store keeps one Record per profile.
type Store interface {
	Get(profile string) (*Record, error) // ErrNotFound, *CorruptError
	Put(r *Record) error
	Delete(profile string) error // ErrNotFound when there was nothing
	List() ([]string, error)
}

// Kinds of store for Open.
const (
	KindAuto    = "auto"    // keyring, falling back to the file store
	KindKeyring = "keyring" // keyring only
	KindFile    = "file"    // file only
)

// Open returns the store of the given kind ("" = ALILOGIN_STORE, else
// automatic). The automatic store prints a one-line notice on stderr when
// it has to fall back to the file store. The keyring is read through the
// fast Secret Service read where it can be, and a record read that way is
// rewritten the fast way. On Linux the store is wrapped in the kernel
// cache (Cached); with the file store or ALILOGIN_KERNEL_CACHE=off
// nothing is cached, but writes and deletes still make the copies other
// processes cached unusable. Authoritative gives the same store reading
// past the cache.
func Open(kind string, getenv func(string) string, stderr io.Writer) (Store, error) {
	if kind == "" {
		kind = getenv("ALILOGIN_STORE")
	}
	if kind == "" {
		kind = KindAuto
	}
	dir, err := StateDir(getenv)
	if err != nil {
		return nil, err
	}
	file := NewFile(filepath.Join(dir, "records"))
	maxItem := 0
	if s := getenv("ALILOGIN_KEYRING_MAX_BYTES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("invalid ALILOGIN_KEYRING_MAX_BYTES %q", s)
		}
		maxItem = n
	}
	kr := NewKeyring(DefaultKeyringTimeout, maxItem)
	kr.withFastPath(getenv)
	kr.indexLock = filepath.Join(dir, "keyring-index.lock")
	var st Store
	switch kind {
	case KindFile:
		st = file
	case KindKeyring:
		st = kr
	case KindAuto:
		st = &Auto{Keyring: kr, File: file, Notice: stderr}
	default:
		return nil, fmt.Errorf("unknown store %q: want keyring or file", kind)
	}
	if kc := NewKernelCache(getenv, dir, time.Now); kc != nil {
		return &Cached{Store: st, Cache: kc, Fill: kind != KindFile && !KernelCacheOff(getenv), Warn: stderr}, nil
	}
	return st, nil
}

// Auto uses the keyring and falls back to the file store when the keyring
// is unreachable or the record is too large for it.
type Auto struct {
	Keyring *Keyring
	File    *File
	Notice  io.Writer // where the fallback notice goes; nil = nowhere

	once sync.Once
}

func (a *Auto) notice(why string, profile string) {
	if a.Notice == nil {
		return
	}
	a.once.Do(func() {
		fmt.Fprintf(a.Notice, "alilogin: %s; keeping the login in %s (mode 0600)\n", why, a.File.Path(profile))
	})
}

// Get reads from the keyring, else from the file store.
func (a *Auto) Get(profile string) (*Record, error) {
	r, err := a.Keyring.Get(profile)
	var ue *UnavailableError
	if err == nil || !(errors.Is(err, ErrNotFound) || errors.As(err, &ue)) {
		return r, err
	}
	return a.File.Get(profile)
}

// Put writes to the keyring, or to the file store with a notice.
func (a *Auto) Put(r *Record) error {
	err := a.Keyring.Put(r)
	var ue *UnavailableError
	switch {
	case err == nil:
		if derr := a.File.Delete(r.Profile); derr != nil && !errors.Is(derr, ErrNotFound) {
			return derr
		}
		return nil
	case errors.Is(err, ErrTooLarge):
		a.notice("the login is too large for the OS keyring", r.Profile)
		_ = a.Keyring.Delete(r.Profile) // no stale copy that Get would prefer
	case errors.As(err, &ue):
		a.notice(fmt.Sprintf("no OS keyring reachable (%v)", ue.Err), r.Profile)
	default:
		return err
	}
	return a.File.Put(r)
}

// Delete removes the record from both.
func (a *Auto) Delete(profile string) error {
	return bothDeleted(a.Keyring.Delete(profile), a.File.Delete(profile))
}

// bothDeleted is the outcome of deleting an item from the keyring (kerr)
// and from the file store (ferr): a record and the pending sign-in alike.
func bothDeleted(kerr, ferr error) error {
	var ue *UnavailableError
	switch {
	case kerr == nil:
		if ferr != nil && !errors.Is(ferr, ErrNotFound) {
			return ferr
		}
		return nil
	case errors.Is(kerr, ErrNotFound) || errors.As(kerr, &ue) && keyringAbsent(ue.Err):
		// Nothing in the keyring, or no keyring that could hold it.
		return ferr
	case ferr != nil && !errors.Is(ferr, ErrNotFound):
		return errors.Join(kerr, ferr)
	default:
		// The keyring failed (a timeout, a dismissed unlock prompt): it
		// may still hold the item, so this is no success, whatever the
		// file store did; logout must not say "logged out".
		return kerr
	}
}

// List is the union of both.
func (a *Auto) List() ([]string, error) {
	k, kerr := a.Keyring.List()
	f, ferr := a.File.List()
	if ferr != nil {
		return nil, ferr
	}
	var ue *UnavailableError
	if kerr != nil && !errors.As(kerr, &ue) {
		return nil, kerr
	}
	l := append(k, f...)
	slices.Sort(l)
	return slices.Compact(l), nil
}

// Authoritative is st reading each record where it is kept, never a
// cached copy (what it reads is then cached, as st's Get would): for the
// renewal chain, which must decide on the current refresh token even if
// a cached copy were stale. Writes, deletes and lists are st's.
func Authoritative(st Store) Store {
	if c, ok := st.(*Cached); ok {
		return authoritative{c}
	}
	return st
}

type authoritative struct{ *Cached }

func (a authoritative) Get(profile string) (*Record, error) {
	// The generation before the read: a copy of what a logout deletes
	// meanwhile is then never served.
	g := a.Generation(profile)
	r, err := a.Store.Get(profile)
	if err == nil {
		a.Remember(r, g)
	}
	return r, err
}
