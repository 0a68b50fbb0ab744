package renew

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/store"
)

// racyStore is a memStore whose at-th Get runs after once it has
// answered: the interleaving of another writer.
type racyStore struct {
	*memStore
	gets  int
	at    int
	after func()
}

func (r *racyStore) Get(p string) (*store.Record, error) {
	rec, err := r.memStore.Get(p)
	r.gets++
	if r.gets == r.at && r.after != nil {
		r.after()
	}
	return rec, err
}

// TestEnsureCheckToPutIsUnderTheLock: a delete that lands after
// Ensure's last re-read before its Put and before the Put itself cannot be
// seen by Ensure (the store has no compare-and-swap): the renewed record
// would be written back after "logged out". What rules it out is that
// logout never deletes without the profile's lock (cmd/alilogin:
// TestLogoutLockTimeoutDeletesNothing, TestInterruptedLockWaitKeepsLogin).
// Here, in that window, a logout's attempt at the lock fails, and it
// deletes nothing; the renewed record is then stored and holds the only
// live Vault token, for the next logout to revoke.
func TestEnsureCheckToPutIsUnderTheLock(t *testing.T) {
	e, rec := setup(t)
	e.clk.add(2 * time.Hour) // everything expired: refresh + Vault login
	dir := t.TempDir()
	ms := &racyStore{memStore: &memStore{recs: map[string]*store.Record{"ci": rec}}, at: 3}
	var lerr error
	ms.after = func() { // the logout, as cmd/alilogin runs it: lock first
		l, err := store.AcquireLock(context.Background(), dir, "ci", 50*time.Millisecond)
		if lerr = err; err == nil {
			_ = ms.memStore.Delete("ci")
			_ = l.Release()
		}
	}
	en := &Ensurer{Chain: e.chain, Store: ms, LockDir: dir}
	out, _, err := en.Ensure(context.Background(), "ci", []store.Kind{store.Nomad})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(lerr, store.ErrLockTimeout) {
		t.Fatalf("a logout between Ensure's check and its Put got the lock (err %v)", lerr)
	}
	got, gerr := ms.memStore.Get("ci")
	if gerr != nil || !got.Vault.Secret.Equal(out.Vault.Secret) {
		t.Fatalf("stored record %v (%v), want the renewed one", got, gerr)
	}
	if n := e.vault.liveTokens(); n != 1 {
		t.Errorf("%d Vault tokens live, want 1 (the stored one)", n)
	}
}

// putHookStore runs after once its Put has stored the record.
type putHookStore struct {
	*memStore
	after func()
}

func (p *putHookStore) Put(r *store.Record) error {
	err := p.memStore.Put(r)
	if p.after != nil {
		f := p.after
		p.after = nil
		f()
	}
	return err
}

// TestEnsureLocklessDeleteAfterPutRevokesNewToken: a logout that does not
// take the lock (an older alilogin) reads the record and revokes its
// (old) Vault token and refresh token while the renewal's re-read still
// finds the record unchanged; the renewal then stores its new Vault token
// and the logout deletes that record. Before the fix the renewal's new
// Vault token (and its leases) stayed alive, held by nobody; now Ensure
// re-reads after its Put, finds the record gone and revokes it.
func TestEnsureLocklessDeleteAfterPutRevokesNewToken(t *testing.T) {
	e, rec := setup(t)
	e.clk.add(2 * time.Hour) // everything expired: refresh + Vault login
	ms := &putHookStore{memStore: &memStore{recs: map[string]*store.Record{"ci": rec}}}
	var seen *store.Record
	e.vault.hook = func(call string) {
		if call == "login" && seen == nil {
			seen, _ = ms.memStore.Get("ci") // logout: st.Get
		}
	}
	ms.after = func() { // logout: revokes what it read, then st.Delete
		_ = e.vault.RevokeSelf(context.Background(), seen.Vault.Secret)
		_ = ms.memStore.Delete("ci")
	}
	en := &Ensurer{Chain: e.chain, Store: ms, LockDir: t.TempDir()}
	_, _, _ = en.Ensure(context.Background(), "ci", []store.Kind{store.Nomad})
	if _, err := ms.memStore.Get("ci"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("record after logout: %v", err)
	}
	if n := e.vault.liveTokens(); n != 0 {
		t.Errorf("%d Vault tokens live after the logout and no record holds them; want 0", n)
	}
}

// lockedReadStore fails the test when the store is read while the
// profile's lock is free, and counts the reads.
type lockedReadStore struct {
	*memStore
	t     *testing.T
	dir   string
	reads int
}

func (l *lockedReadStore) Get(p string) (*store.Record, error) {
	l.reads++
	if lk, err := store.AcquireLock(context.Background(), l.dir, p, time.Millisecond); err == nil {
		_ = lk.Release()
		l.t.Errorf("read %d of the store without the profile's lock", l.reads)
	}
	return l.memStore.Get(p)
}

// TestRenewReadsOnlyUnderTheLock: Renew, for a caller that found the
// record stale itself, reads the store only under the profile's lock:
// once before the chain, once before and once after storing (the
// lockless writer checks), none before the lock.
func TestRenewReadsOnlyUnderTheLock(t *testing.T) {
	e, rec := setup(t)
	e.clk.add(2 * time.Hour) // everything expired: refresh + Vault login
	dir := t.TempDir()
	ls := &lockedReadStore{memStore: &memStore{recs: map[string]*store.Record{"ci": rec}}, t: t, dir: dir}
	en := &Ensurer{Chain: e.chain, Store: ls, LockDir: dir}
	out, _, err := en.Renew(context.Background(), "ci", []store.Kind{store.Nomad})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := ls.memStore.Get("ci"); got == nil || !got.Vault.Secret.Equal(out.Vault.Secret) {
		t.Errorf("stored %v, want the renewed record", got)
	}
	if ls.reads != 3 {
		t.Errorf("%d reads of the store, want 3", ls.reads)
	}
}
