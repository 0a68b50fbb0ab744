package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/teststack"
)

// TestKernelCacheAcrossProcesses: a record one process cached in the
// kernel keyring serves the next process without the Secret Service (so a
// record changed behind alilogin's back is not seen),
// ALILOGIN_KERNEL_CACHE=off reads past it, and a logout in one process
// is seen by the next.
func TestKernelCacheAcrossProcesses(t *testing.T) {
	requireKernelKeyring(t)
	// The other tests' records stay cached for up to 10 minutes; a uid's
	// quota is 20000 bytes unless it is root. Without room, alilogin
	// rightly does without the cache, and there is nothing to test here.
	if free, ok := keyQuotaLeft(); ok && free < 8192 {
		skipOutsideCI(t, fmt.Sprintf("kernel key quota nearly used up (%d bytes left)", free))
	}

	u := sessionUser(t, "kcache", teststack.Mounts{})
	now := time.Now().UTC().Truncate(time.Second)
	rec := func(nomad string) *store.Record {
		return u.bound(t, &store.Record{Version: store.RecordVersion, Profile: "kcache", User: "x",
			Vault: &store.Token{Secret: secret.New("hvs.fake"), Accessor: "acc1", IssuedAt: now, ExpiresAt: now.Add(time.Hour)},
			Nomad: &store.Token{Secret: secret.New(nomad), LeaseID: "nomad/creds/kcache/x", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}})
	}
	putRecord(t, u, rec("nomad-1"))
	if got := tokenOut(u.ok(t, "token", "--for", "nomad")); got != "nomad-1" {
		t.Fatalf("token: %q, want nomad-1", got)
	}
	// Behind alilogin's back, straight into the Secret Service.
	if err := store.NewKeyring(0, 0).Put(rec("nomad-2")); err != nil {
		t.Fatal(err)
	}
	if got := tokenOut(u.ok(t, "token", "--for", "nomad")); got != "nomad-1" {
		t.Errorf("token after a change behind the cache: %q, want the cached nomad-1", got)
	}
	u.env["ALILOGIN_KERNEL_CACHE"] = "off"
	if got := tokenOut(u.ok(t, "token", "--for", "nomad")); got != "nomad-2" {
		t.Errorf("token with ALILOGIN_KERNEL_CACHE=off: %q, want the keyring's nomad-2", got)
	}
	delete(u.env, "ALILOGIN_KERNEL_CACHE")

	// Writes through the store replace the cached copy.
	putRecord(t, u, rec("nomad-3"))
	if got := tokenOut(u.ok(t, "token", "--for", "nomad")); got != "nomad-3" {
		t.Errorf("token after a Put: %q, want nomad-3", got)
	}

	// The fake tokens cannot be revoked (exit 3), but the record goes.
	if p := u.run(t, "logout"); p.code() != 0 && p.code() != 3 {
		t.Fatalf("logout: exit %d\n%s", p.code(), p.stderr.String())
	}
	if p := u.run(t, "token", "--for", "nomad"); p.code() != 4 {
		t.Errorf("token after logout: exit %d, stdout %q", p.code(), p.stdout.String())
	}
}

// requireKernelKeyring skips the test (outside CI: skipOutsideCI) when
// this process cannot add a key to its user keyring.
func requireKernelKeyring(t *testing.T) {
	t.Helper()
	id, err := unix.AddKey("user", "alilogin:e2e-probe", []byte("x"), unix.KEY_SPEC_USER_KEYRING)
	if err != nil {
		skipOutsideCI(t, fmt.Sprintf("no kernel keyring here: %v", err))
	}
	_, _ = unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0)
}

// keyQuotaLeft reads the bytes left in this uid's key quota from
// /proc/key-users ("<uid>: <usage> <n>/<n> <keys>/<maxkeys> <bytes>/<maxbytes>").
func keyQuotaLeft() (int, bool) {
	b, err := os.ReadFile("/proc/key-users")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || f[0] != fmt.Sprintf("%d:", os.Getuid()) {
			continue
		}
		var used, max int
		if _, err := fmt.Sscanf(f[4], "%d/%d", &used, &max); err != nil {
			return 0, false
		}
		return max - used, true
	}
	return 0, false
}

// skipOutsideCI skips the test with why, except in CI (CI=true), where a
// missing kernel feature fails the run instead.
func skipOutsideCI(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: must not skip)", why)
	}
	t.Skip(why)
}
