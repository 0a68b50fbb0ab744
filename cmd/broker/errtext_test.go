package main

import (
	"strings"
	"testing"
)

// TestErrorsPrintedClean: the broker's error line carries no escape
// sequence, whatever the error quotes.
func TestErrorsPrintedClean(t *testing.T) {
	code, _, s := runBroker(nil, "validate", t.TempDir()+"/\x1b]0;pwned\x07\x1b[2J")
	if code == 0 {
		t.Error("exit 0 for a missing folder")
	}
	if strings.ContainsAny(s, "\x1b\x07") || !strings.Contains(s, "?]0;pwned?") {
		t.Errorf("stderr %q: want the escape sequences replaced by ?", s)
	}
}
