package store

import (
	"fmt"
	"io"
	"sync"
)

// Cached is a Store with the kernel cache (KernelCache) in front of it.
// Writes go to the backend first, then give the profile a new generation,
// then go to the cache; a delete drops every session's cached copy before
// and after the backend's record and the new generation, so that a
// logout is seen at once by every process of the user, whatever session
// it runs in. A process that was filling the cache from the backend
// meanwhile tags its copy with the generation it saw before reading,
// which the delete made old: that copy is never served. The backend is
// the source of truth: when it fails, the cached copy is dropped, and the
// error returned.
//
// When the new generation cannot be written (a full disk, an exhausted
// AFS/NFS quota, a read-only state directory), every copy of the profile
// is dropped, the old generation file is removed when it can be (a
// missing generation serves nothing, and a fill writes a new one first,
// so nothing is cached while none can be written), and the failure is
// reported: a warning on Warn for writes, a *GenerationError from
// Delete.
type Cached struct {
	Store Store
	Cache *KernelCache
	// Fill: copy what is read and written into the cache. Off for the
	// file store, which has no D-Bus to save, and with
	// ALILOGIN_KERNEL_CACHE=off; writes and deletes still make the copies
	// other processes made unusable.
	Fill bool
	// Warn receives a one-line warning when a write could not give the
	// profile a new generation; nil = nowhere.
	Warn io.Writer

	warned sync.Once
}

func (c *Cached) warn(err error) {
	if c.Warn == nil {
		return
	}
	c.warned.Do(func() { fmt.Fprintf(c.Warn, "alilogin: warning: %v\n", err) })
}

// sharesBackend reports whether stores with other state directories may
// read this store's records: the Secret Service is one per session, the
// file store is in the state directory.
func (c *Cached) sharesBackend() bool {
	switch c.Store.(type) {
	case *Keyring, *Auto:
		return true
	}
	return false
}

// Lookup returns the cached record, when Fill is on and there is one of
// the current generation.
func (c *Cached) Lookup(profile string) (*Record, bool) {
	if !c.Fill {
		return nil, false
	}
	return c.Cache.Get(profile)
}

// Generation is the profile's generation, to be read before the backend
// and passed to Remember with what was read.
func (c *Cached) Generation(profile string) Gen { return c.Cache.Generation(profile) }

// Remember caches r, read through the backend (or its fast paths) by the
// caller after it saw generation g; without Fill it drops the earlier
// copy.
func (c *Cached) Remember(r *Record, g Gen) {
	if c.Fill {
		c.Cache.Put(r, g)
	} else {
		c.Cache.Invalidate(r.Profile)
	}
}

// Wrote is what follows a write of r to the backend (by Put, or by the
// caller's fast path): a new generation, then r cached under it. When
// the generation cannot be written, every copy is dropped, the warning
// goes to Warn and the *GenerationError is returned.
func (c *Cached) Wrote(r *Record) error {
	g, err := c.Cache.Bump(r.Profile)
	if err != nil {
		c.Cache.InvalidateAll(r.Profile)
		c.warn(err)
		return err
	}
	c.Remember(r, g)
	return nil
}

// Get returns the cached record, else the backend's, then caches it.
func (c *Cached) Get(profile string) (*Record, error) {
	if r, ok := c.Lookup(profile); ok {
		return r, nil
	}
	g := c.Generation(profile)
	r, err := c.Store.Get(profile)
	if err == nil {
		c.Remember(r, g)
	}
	return r, err
}

// Put writes the backend, then the generation and the cache. A
// generation that cannot be written is a warning (on Warn), not an
// error: the record is stored.
func (c *Cached) Put(r *Record) error {
	if err := c.Store.Put(r); err != nil {
		// The backend may hold either record now.
		if _, gerr := c.Cache.Bump(r.Profile); gerr != nil {
			c.Cache.InvalidateAll(r.Profile)
		} else {
			c.Cache.Invalidate(r.Profile)
		}
		return err
	}
	_ = c.Wrote(r)
	return nil
}

// Delete drops every cached copy, then the backend's record, then gives
// the profile a new generation and drops the copies once more: with a
// Secret Service backend, those of every state directory. When the
// record was deleted but the generation could not be written, it
// returns the *GenerationError: the logout happened, but a copy may
// survive.
func (c *Cached) Delete(profile string) error {
	c.Cache.InvalidateAll(profile)
	err := c.Store.Delete(profile)
	_, gerr := c.Cache.Bump(profile)
	if c.sharesBackend() {
		c.Cache.InvalidateEveryState(profile)
	} else {
		c.Cache.InvalidateAll(profile)
	}
	if err == nil && gerr != nil {
		return gerr
	}
	return err
}

// List is the backend's.
func (c *Cached) List() ([]string, error) { return c.Store.List() }
