package testutil

import (
	"testing"
	"time"
)

// Eventually calls cond every 10 ms until it returns true or d has
// passed, and says whether it did: for a test that reports the failure
// itself, with what it found. The interval is short and fixed, so that a
// condition that holds only for a moment (a counter at exactly n while a
// loop runs every 50 ms) is seen.
func Eventually(d time.Duration, cond func() bool) bool {
	return EventuallyEvery(d, 10*time.Millisecond, cond)
}

// EventuallyEvery is Eventually asking cond every interval instead: for a
// condition that costs a process or a request to ask (a terminal's
// screen from tmux, a page's title from the browser, a server's answer).
func EventuallyEvery(d, interval time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(interval)
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
