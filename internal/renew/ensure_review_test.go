package renew

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/store"
)

// racyStore is a memStore whose n-th Get runs after, right after it has
// answered: the interleaving of a writer that does not hold the lock.
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

// TestReviewEnsureDeleteBetweenCheckAndPut: a logout that gave up waiting
// for the lock (logout.go goes on without it after 60 s) deletes the
// record after Ensure's last re-read ("cur") and before its Put. The
// re-read is not atomic with the Put, so the renewed record is written
// back after "logged out": the logged-out login is resurrected, with a
// new Vault token and a rotated refresh token that the logout never saw
// and so never revoked.
func TestReviewEnsureDeleteBetweenCheckAndPut(t *testing.T) {
	e, rec := setup(t)
	e.clk.add(2 * time.Hour) // everything expired: refresh + Vault login
	ms := &racyStore{memStore: &memStore{recs: map[string]*store.Record{"ci": rec}}, at: 3}
	ms.after = func() { _ = ms.memStore.Delete("ci") } // the lockless logout
	en := &Ensurer{Chain: e.chain, Store: ms, LockDir: t.TempDir()}
	_, _, err := en.Ensure(context.Background(), "ci", []Kind{Nomad})
	if got, gerr := ms.memStore.Get("ci"); !errors.Is(gerr, store.ErrNotFound) {
		t.Errorf("after a logout, the store holds a record again (Ensure err %v): refresh token %v, vault %s; want none",
			err, got.RefreshToken, got.Vault.Accessor)
	}
	if n := e.vault.liveTokens(); n != 0 {
		t.Errorf("%d Vault tokens live after the logout, want 0", n)
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

// TestReviewLocklessLogoutDuringRevokeLeaksNewToken: the other order of
// the same lockless logout. The logout reads the record and revokes its
// (old) Vault token and refresh token while the renewal's re-read still
// finds the record unchanged; the renewal then stores its new Vault token
// and the logout deletes that record. "logged out", no record, but the
// renewal's new Vault token (and its leases) stay alive until their TTL:
// nobody holds it any more, nobody revoked it.
func TestReviewLocklessLogoutDuringRevokeLeaksNewToken(t *testing.T) {
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
	_, _, _ = en.Ensure(context.Background(), "ci", []Kind{Nomad})
	if _, err := ms.memStore.Get("ci"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("record after logout: %v", err)
	}
	if n := e.vault.liveTokens(); n != 0 {
		t.Errorf("%d Vault tokens live after the logout and no record holds them; want 0", n)
	}
}
