package store

// Cached is a Store with the kernel cache (KernelCache) in front of it.
// Writes go to the backend first and then to the cache; a delete drops
// the cached copy before and after the backend's, so that a logout is
// seen by the next process even when another one was filling the cache
// from the backend meanwhile (short of that process stalling for the
// whole delete). The backend is the source of truth: when it fails, the
// cached copy is dropped, and the error returned.
type Cached struct {
	Store Store
	Cache *KernelCache
	// Fill: copy what is read and written into the cache. Off for the
	// file store, which has no D-Bus to save and whose writes and
	// deletes still drop the copy another store kind made.
	Fill bool
}

// Lookup returns the cached record, when Fill is on and there is one.
func (c *Cached) Lookup(profile string) (*Record, bool) {
	if !c.Fill {
		return nil, false
	}
	return c.Cache.Get(profile)
}

// Remember caches r, read or written through the backend (or its fast
// paths) by the caller; without Fill it drops the earlier copy.
func (c *Cached) Remember(r *Record) {
	if c.Fill {
		c.Cache.Put(r)
	} else {
		c.Cache.Invalidate(r.Profile)
	}
}

// Get returns the cached record, else the backend's, then caches it.
func (c *Cached) Get(profile string) (*Record, error) {
	if r, ok := c.Lookup(profile); ok {
		return r, nil
	}
	r, err := c.Store.Get(profile)
	if err == nil {
		c.Remember(r)
	}
	return r, err
}

// Put writes the backend, then the cache.
func (c *Cached) Put(r *Record) error {
	if err := c.Store.Put(r); err != nil {
		c.Cache.Invalidate(r.Profile)
		return err
	}
	c.Remember(r)
	return nil
}

// Delete drops the cached copy, then the backend's record.
func (c *Cached) Delete(profile string) error {
	c.Cache.Invalidate(profile)
	err := c.Store.Delete(profile)
	c.Cache.Invalidate(profile)
	return err
}

// List is the backend's.
func (c *Cached) List() ([]string, error) { return c.Store.List() }
