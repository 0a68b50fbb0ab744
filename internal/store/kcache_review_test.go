package store

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/secret"
)

// unwritableGeneration makes the profile's generation file impossible to
// replace while stat(2) still sees a stable identity: what a full disk
// (ENOSPC), an exhausted AFS/NFS quota (EDQUOT, common for CERN home
// directories) or a read-only state directory do to atomicfile.Write.
// Here a directory that is not empty stands at the file's path, so the
// rename fails with EISDIR and the path cannot be removed either (as in
// a read-only state directory); Bump then returns a *GenerationError.
func unwritableGeneration(t *testing.T, c *Cached, profile string) {
	t.Helper()
	p := c.Cache.gens.path(profile)
	_ = os.Remove(p)
	if err := os.MkdirAll(filepath.Join(p, "keep"), 0o700); err != nil {
		t.Fatal(err)
	}
	var ge *GenerationError
	if g, err := c.Cache.Bump(profile); g != "" || !errors.As(err, &ge) || ge.Removed {
		t.Fatalf("bump: %q, %v", g, err)
	}
}

// TestReviewWriteWithoutNewGenerationLeavesOtherSessionsCopy: a renewal
// (or a new login) in the SSH session cannot write the generation; the
// write goes on, the backend holds the new record, and the desktop keeps
// serving its copy of the old one, whose leases the renewal replaced and
// revoked, for up to ten minutes. Put should then drop every session's
// copy (InvalidateAll), as Delete does.
func TestReviewWriteWithoutNewGenerationLeavesOtherSessionsCopy(t *testing.T) {
	desktop, ssh, _ := sessions(t)
	unwritableGeneration(t, ssh, "ci")
	if err := desktop.Put(testRecord("ci")); err != nil {
		t.Fatal(err)
	}
	if _, err := desktop.Get("ci"); err != nil { // a later `token` caches it
		t.Fatal(err)
	}
	r2 := testRecord("ci")
	r2.Nomad.Secret = secret.New("nomad-secret-2")
	if err := ssh.Put(r2); err != nil {
		t.Fatal(err)
	}
	if got, ok := desktop.Lookup("ci"); ok && !got.Nomad.Secret.Equal(r2.Nomad.Secret) {
		t.Errorf("after the SSH session's write, the desktop serves its copy of the replaced record")
	}
}

// TestReviewLogoutWithoutNewGenerationRacingFill: the same failure during
// a logout. A `token` in the desktop read the record before the logout
// and caches it after (TestKernelCacheFillRacingDelete's race); with no
// new generation its copy carries the current one and is served after
// "logged out", to every process of the desktop session.
func TestReviewLogoutWithoutNewGenerationRacingFill(t *testing.T) {
	desktop, ssh, _ := sessions(t)
	unwritableGeneration(t, ssh, "ci")
	if err := ssh.Put(testRecord("ci")); err != nil {
		t.Fatal(err)
	}
	g := desktop.Generation("ci")
	r, err := desktop.Store.Get("ci") // read before the logout...
	if err != nil {
		t.Fatal(err)
	}
	var ge *GenerationError
	if err := ssh.Delete("ci"); !errors.As(err, &ge) { // the logout must learn it
		t.Fatalf("Delete: %v, want a *GenerationError", err)
	}
	desktop.Remember(r, g) // ...cached after it
	if _, ok := desktop.Lookup("ci"); ok {
		t.Error("a copy filled from before the logout is served: the logout could not write a new generation and said nothing")
	}
}

// TestReviewLogoutFromAnotherStateDirSameKeyring: two shells of one
// desktop session share the Secret Service (the backend) but not
// XDG_STATE_HOME (a flatpak or snap terminal, a .profile that sets it
// for login shells only, a systemd user unit). A logout in one deletes
// the keyring item for both, but drops and bumps only the copies and
// generation of its own state directory: the other shell's kernel copy
// of the logged-out record is served for up to ten minutes (status says
// logged in; token prints the revoked, or, when the revocation failed,
// still live token). The two shells do not share a lock either.
func TestReviewLogoutFromAnotherStateDirSameKeyring(t *testing.T) {
	m := newMemKeyctl()
	back := &Keyring{api: &memKeyring{items: map[string]string{}}, timeout: time.Second} // one Secret Service
	dc, _ := newMemCacheIn(t, t.TempDir(), "unix:path=/run/user/1000/bus", m)
	oc, _ := newMemCacheIn(t, t.TempDir(), "unix:path=/run/user/1000/bus", m)
	desktop := &Cached{Store: back, Cache: dc, Fill: true}
	other := &Cached{Store: back, Cache: oc, Fill: true}
	if err := desktop.Put(testRecord("ci")); err != nil {
		t.Fatal(err)
	}
	if err := other.Delete("ci"); err != nil {
		t.Fatal(err)
	}
	if _, err := back.Get("ci"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("backend after logout: %v", err)
	}
	if _, ok := desktop.Lookup("ci"); ok {
		t.Error("the other shell serves a kernel copy of the logged-out record")
	}
}

// TestReviewRemovedGenerationRevivesOldCopy: "none" is a generation like
// any other, so a copy made while there was no generation file (the
// first `token` after an upgrade, or after the state directory was
// cleaned) becomes servable again whenever the file disappears: a
// renewal elsewhere bumped the generation (the copy stopped being
// served), then the kcache/ folder is removed (a cleanup of
// ~/.local/state, a tmp reaper when XDG_STATE_HOME is under /tmp) and
// the replaced record's copy is served once more. A missing file should
// serve nothing once copies can exist (e.g. create the file before the
// first copy is cached, and treat ENOENT as "").
func TestReviewRemovedGenerationRevivesOldCopy(t *testing.T) {
	desktop, ssh, _ := sessions(t)
	if err := desktop.Store.Put(testRecord("ci")); err != nil { // written by an earlier version
		t.Fatal(err)
	}
	if _, err := desktop.Get("ci"); err != nil { // cached under "none"
		t.Fatal(err)
	}
	r2 := testRecord("ci")
	r2.Nomad.Secret = secret.New("nomad-secret-2")
	if err := ssh.Put(r2); err != nil { // renewal in the SSH session
		t.Fatal(err)
	}
	// (The desktop runs nothing meanwhile: a Lookup now would find the
	// copy's generation old and remove it.)
	if err := os.RemoveAll(ssh.Cache.gens.dir); err != nil {
		t.Fatal(err)
	}
	if got, ok := desktop.Lookup("ci"); ok && !got.Nomad.Secret.Equal(r2.Nomad.Secret) {
		t.Error("with the generation file gone, the desktop serves its old copy of the replaced record again")
	}
}
