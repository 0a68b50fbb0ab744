package store

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/secret"
)

func testPending() *Pending {
	return &Pending{Issuer: "https://sso", ClientID: "cli", Subject: "s", User: "alice",
		IDToken: secret.New("id-token-secret"), RefreshToken: secret.New("refresh-secret"),
		SignedInAt: time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)}
}

// TestPendingSignInKeptApartFromProfiles: the pending sign-in round-trips
// in each tier and is never listed as a profile, nor does it disturb the
// records.
func TestPendingSignInKeptApartFromProfiles(t *testing.T) {
	kr, _ := newTestKeyring(0)
	down, m := newTestKeyring(0)
	m.down = true
	for name, st := range map[string]Store{
		"keyring":            kr,
		"file":               NewFile(t.TempDir()),
		"auto, keyring down": &Auto{Keyring: down, File: NewFile(t.TempDir())},
	} {
		t.Run(name, func(t *testing.T) {
			ps, ok := PendingOf(st)
			if !ok {
				t.Fatalf("%T has no pending store", st)
			}
			if _, err := ps.GetPending(); !errors.Is(err, ErrNotFound) {
				t.Fatalf("GetPending before any = %v, want ErrNotFound", err)
			}
			mustPut(t, st, testRecord("ci"))
			p := testPending()
			if err := ps.PutPending(p); err != nil {
				t.Fatal(err)
			}
			got, err := ps.GetPending()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(p, got); diff != "" {
				t.Errorf("(-put +got):\n%s", diff)
			}
			if l, err := st.List(); err != nil || !cmp.Equal(l, []string{"ci"}) {
				t.Errorf("List = %v, %v; want only ci", l, err)
			}
			err = ps.DeletePending()
			var ue *UnavailableError
			if a, ok := st.(*Auto); ok && m.down {
				// The keyring failed, so it may still hold one: no success,
				// but the file's copy is gone.
				if !errors.As(err, &ue) {
					t.Errorf("DeletePending with the keyring down = %v, want an *UnavailableError", err)
				}
				if _, err := a.File.GetPending(); !errors.Is(err, ErrNotFound) {
					t.Errorf("the file's copy after DeletePending: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ps.GetPending(); !errors.Is(err, ErrNotFound) {
				t.Errorf("after DeletePending: %v", err)
			}
			if err := ps.DeletePending(); !errors.Is(err, ErrNotFound) {
				t.Errorf("second DeletePending = %v, want ErrNotFound", err)
			}
			if _, err := st.Get("ci"); err != nil {
				t.Errorf("the record after DeletePending: %v", err)
			}
		})
	}
}

// TestPendingSignInFileIsPrivate: the file tier keeps it 0600 in the
// 0700 records directory, and a copy printed by mistake shows no secret.
func TestPendingSignInFileIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "records")
	f := NewFile(dir)
	if err := f.PutPending(testPending()); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("records dir holds %d files, want 1", len(ents))
	}
	fi, _ := os.Stat(filepath.Join(dir, ents[0].Name()))
	di, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Errorf("file %v, dir %v; want 0600 and 0700", fi.Mode().Perm(), di.Mode().Perm())
	}
	b, _ := json.Marshal(testPending())
	if s := string(b); strings.Contains(s, "id-token-secret") || strings.Contains(s, "refresh-secret") {
		t.Errorf("Pending's own JSON shows a secret: %s", s)
	}
}

// TestPendingOfCached: behind the kernel cache, the pending store is the
// backend's.
func TestPendingOfCached(t *testing.T) {
	f := NewFile(t.TempDir())
	for _, st := range []Store{&Cached{Store: f}, Authoritative(&Cached{Store: f})} {
		if ps, ok := PendingOf(st); !ok || ps != PendingStore(f) {
			t.Errorf("PendingOf(%T) = %v, %v", st, ps, ok)
		}
	}
}
