package store

import (
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofrs/flock"
)

// interleaveIndex is a keyring API whose first read of the index runs
// meanwhile before it answers: another process's whole write (a login of
// another profile) lands between this one's read and write of the index.
type interleaveIndex struct {
	keyringAPI
	once      sync.Once
	meanwhile func()
}

func (i *interleaveIndex) Get(s, u string) (string, error) {
	v, err := i.keyringAPI.Get(s, u)
	if u == keyName("") {
		i.once.Do(i.meanwhile)
	}
	return v, err
}

// TestKeyringIndexLosesNoUpdate: the keyring's profile index is a
// read-modify-write with no lock (the per-profile locks do not cover
// it), so two logins of different profiles at once (two terminals, a
// script logging in to several profiles in parallel) can lose one of
// them from the index. The lost profile is still stored and still
// usable, but `alilogin logout --all` lists from the index: it logs out
// of the other profiles, says nothing about this one and exits 0, and
// its Vault token and refresh token stay alive.
func TestKeyringIndexLosesNoUpdate(t *testing.T) {
	m := &memKeyring{items: map[string]string{}}
	lock := filepath.Join(t.TempDir(), "keyring-index.lock") // one state directory
	waits := make(chan struct{})
	other := &Keyring{api: m, timeout: time.Second, indexLock: lock, lockWaits: func() { close(waits) }}
	done := make(chan error, 1)
	k := &Keyring{api: &interleaveIndex{keyringAPI: m, meanwhile: func() {
		// The other login runs now: it either completes in the middle
		// of this one's update, or waits for the index lock.
		go func() { done <- other.Put(testRecord("b")) }()
		select {
		case err := <-done:
			done <- err
		case <-waits:
		}
	}}, timeout: time.Second, indexLock: lock}
	mustPut(t, k, testRecord("a"))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a", "b"} {
		if _, err := k.Get(p); err != nil {
			t.Fatalf("record %s: %v", p, err)
		}
	}
	l, err := k.List()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(l, []string{"a", "b"}) {
		t.Errorf("List = %v with records a and b stored: logout --all would leave the missing one logged in", l)
	}
}

// TestKeyringIndexLockHeld: an index lock that is never released makes
// the write fail after the bounded wait, with an error that names the
// lock, rather than hang or write unlocked.
func TestKeyringIndexLockHeld(t *testing.T) {
	lock := filepath.Join(t.TempDir(), "keyring-index.lock")
	holder := flock.New(lock)
	if err := holder.Lock(); err != nil {
		t.Fatal(err)
	}
	defer holder.Unlock()
	k := &Keyring{api: &memKeyring{items: map[string]string{}}, timeout: 10 * time.Millisecond, indexLock: lock}
	if err := k.Put(testRecord("a")); err == nil || !strings.Contains(err.Error(), lock) {
		t.Errorf("Put with the index lock held: %v", err)
	}
}

// searchingKeyring is a keyring that can also be searched by attribute,
// as the Secret Service can.
type searchingKeyring struct{ *memKeyring }

func (s searchingKeyring) Profiles(service string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.items {
		if svc, user, ok := strings.Cut(k, "/"); ok && svc == service {
			if p, ok := strings.CutPrefix(user, "profile:"); ok {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// TestKeyringListSearches: a profile the index lost (written by an older
// version, or by a store with another state directory and so another
// index lock) is still listed where the keyring can be searched, so
// `logout --all` logs it out.
func TestKeyringListSearches(t *testing.T) {
	m := &memKeyring{items: map[string]string{}}
	k := &Keyring{api: searchingKeyring{m}, timeout: time.Second}
	for _, p := range []string{"a", "b"} {
		mustPut(t, k, testRecord(p))
	}
	if err := m.Set(keyringService, keyName(""), `["a"]`); err != nil { // b lost from the index
		t.Fatal(err)
	}
	if l, err := k.List(); err != nil || !slices.Equal(l, []string{"a", "b"}) {
		t.Errorf("List = %v, %v; want [a b]", l, err)
	}
}
