package testutil

import (
	"testing"
	"time"
)

// Eventually calls cond until it returns true or d has passed, and says
// whether it did. It polls at 10 ms at first, then less often (up to
// every 100 ms), so that a quick event is seen at once and a slow one
// (a real server's state) is not asked for too often. For a test that
// reports the failure itself, with what it found.
func Eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	wait := 10 * time.Millisecond
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(wait)
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// WaitFor waits up to d for cond, as Eventually does, and fails the test
// with "timed out after d waiting for what" when it does not come. It
// returns how long the wait took.
func WaitFor(t testing.TB, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	t0 := time.Now()
	if !Eventually(d, cond) {
		t.Fatalf("timed out after %s waiting for %s", d, what)
	}
	return time.Since(t0)
}
