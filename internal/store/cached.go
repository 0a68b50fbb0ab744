package store

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
type Cached struct {
	Store Store
	Cache *KernelCache
	// Fill: copy what is read and written into the cache. Off for the
	// file store, which has no D-Bus to save, and with
	// ALILOGIN_KERNEL_CACHE=off; writes and deletes still make the copies
	// other processes made unusable.
	Fill bool
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
// caller's fast path): a new generation, then r cached under it.
func (c *Cached) Wrote(r *Record) {
	c.Remember(r, c.Cache.Bump(r.Profile))
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

// Put writes the backend, then the generation and the cache.
func (c *Cached) Put(r *Record) error {
	if err := c.Store.Put(r); err != nil {
		c.Cache.Bump(r.Profile) // the backend may hold either record now
		c.Cache.Invalidate(r.Profile)
		return err
	}
	c.Wrote(r)
	return nil
}

// Delete drops every cached copy, then the backend's record, then gives
// the profile a new generation and drops the copies once more.
func (c *Cached) Delete(profile string) error {
	c.Cache.InvalidateAll(profile)
	err := c.Store.Delete(profile)
	c.Cache.Bump(profile)
	c.Cache.InvalidateAll(profile)
	return err
}

// List is the backend's.
func (c *Cached) List() ([]string, error) { return c.Store.List() }
