package serve

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/testutil"
)

// serve's folder fingerprint opens and reads, without a
// bound, every regular file and every symbolic link under the folder,
// whatever its name and whatever the link points to. policy.Load refuses a
// link to a device or a named pipe, and reads at most 1 MiB of a file —
// but it never gets the chance: a link to a FIFO blocks fingerprint in
// open(2) forever, one to /dev/zero (or a huge file) makes it read for ever.
// At start (Run loads synchronously) the broker never leads, never
// reconciles and never reports why; later, the watcher freezes silently:
// no folder change is ever loaded again and /readyz stays green.
//
// Must: fingerprint hashes what Load reads (the *.hcl files, with Load's
// checks and size bound), and never blocks on a special file.
func TestFingerprintDoesNotHangOnSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "profiles.hcl"), []byte("a b"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal("could not make a named pipe:", err)
	}
	// Not even a *.hcl: Load never reads it.
	if err := os.Symlink(fifo, filepath.Join(dir, "NOTES")); err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Dir: dir, Load: fakeLoad, Reconciler: &guardReconciler{}, WatchInterval: 3600e9, Interval: 3600e9})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() {
		cancel()
		// Unblock the open(2) of the FIFO, then let the read see EOF.
		for i := 0; i < 50; i++ {
			if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				f.Close()
			}
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	settled := testutil.Eventually(5*time.Second, func() bool {
		st := srv.Status()
		return st.Generation > 0 || (st.ConfigError != "" && st.ConfigError != "no valid configuration loaded yet")
	})
	if settled {
		return
	}
	t.Fatalf("after 5s the folder is neither loaded nor reported broken (status %+v): fingerprint is stuck on the FIFO link", srv.Status())
}
