package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func TestAcquireLock(t *testing.T) {
	dir := t.TempDir()
	l, err := AcquireLock(context.Background(), dir, "ci", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := AcquireLock(context.Background(), dir, "ci", 100*time.Millisecond); !errors.Is(err, ErrLockTimeout) {
		t.Errorf("second lock: %v, want timeout", err)
	}
	other, err := AcquireLock(context.Background(), dir, "other", time.Second)
	if err != nil {
		t.Errorf("another profile: %v", err)
	}
	other.Release()
	l.Release()
	l2, err := AcquireLock(context.Background(), dir, "ci", time.Second)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	l2.Release()
	if st, err := os.Stat(filepath.Join(dir, "ci.lock")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("lock file: %v %v", st, err)
	}
	for _, bad := range []string{"", "../x", "a/b", ".."} {
		if _, err := AcquireLock(context.Background(), dir, bad, time.Second); err == nil {
			t.Errorf("profile %q accepted", bad)
		}
	}
}

func TestLockInAnUnwritableDirFails(t *testing.T) {
	if runtime.GOOS == "windows" || os.Geteuid() == 0 {
		// root ignores permissions; the end-to-end test uses a file in the way instead.
		dir := filepath.Join(t.TempDir(), "file")
		os.WriteFile(dir, nil, 0o600)
		if _, err := AcquireLock(context.Background(), filepath.Join(dir, "locks"), "ci", time.Second); err == nil {
			t.Fatal("lock under a regular file succeeded")
		}
		return
	}
	dir := filepath.Join(t.TempDir(), "locks")
	os.Mkdir(dir, 0o500)
	if _, err := AcquireLock(context.Background(), dir, "ci", time.Second); err == nil {
		t.Fatal("lock in an unwritable dir succeeded")
	}
}

// TestLockWaitingIsSaidOnlyWhenHeld: waiting is called only when another process
// holds the lock.
func TestLockWaitingIsSaidOnlyWhenHeld(t *testing.T) {
	dir := t.TempDir()
	said := 0
	l, err := AcquireLockOrWait(context.Background(), dir, "ci", time.Second, func() { said++ })
	if err != nil || said != 0 {
		t.Fatalf("free lock: %v, waiting called %d times", err, said)
	}
	done := make(chan error)
	go func() {
		l2, err := AcquireLockOrWait(context.Background(), dir, "ci", 10*time.Second, func() { said++; l.Release() })
		if err == nil {
			l2.Release()
		}
		done <- err
	}()
	if err := <-done; err != nil || said != 1 {
		t.Errorf("held lock: %v, waiting called %d times, want 1", err, said)
	}
}
