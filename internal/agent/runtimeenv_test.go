package agent

import (
	"slices"
	"testing"
)

// TestEnvironKeepsTheMonitorThreadAwake: an agent is started with
// GODEBUG's schedtrace set (MonitorAwake), the user's other GODEBUG
// settings kept, and a schedtrace of the user's own (0 turns it off)
// left as it is.
func TestEnvironKeepsTheMonitorThreadAwake(t *testing.T) {
	for _, c := range []struct {
		name string
		env  []string
		want []string
	}{
		{"no GODEBUG", []string{"HOME=/h"}, []string{"HOME=/h", "GODEBUG=" + MonitorAwake}},
		{"other settings kept", []string{"GODEBUG=http2client=0", "HOME=/h"}, []string{"HOME=/h", "GODEBUG=http2client=0," + MonitorAwake}},
		{"empty GODEBUG", []string{"GODEBUG="}, []string{"GODEBUG=" + MonitorAwake}},
		{"the user's own schedtrace", []string{"GODEBUG=schedtrace=0,madvdontneed=1"}, []string{"GODEBUG=schedtrace=0,madvdontneed=1"}},
		{"schedtrace= not a prefix of another name", []string{"GODEBUG=xschedtrace=5"}, []string{"GODEBUG=xschedtrace=5," + MonitorAwake}},
		{"a schedtrace the runtime passes over", []string{"GODEBUG=schedtrace=99999999999"}, []string{"GODEBUG=schedtrace=99999999999," + MonitorAwake}},
	} {
		got := Environ(c.env)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: Environ(%q) = %q, want %q", c.name, c.env, got, c.want)
		}
	}
	// As the runtime reads it: the last setting that parses wins.
	for godebug, want := range map[string]int64{"schedtrace=10,schedtrace=0": 0, "schedtrace=5,schedtrace=x": 5,
		"schedtrace=99999999999": -1, "schedtrace=x": -1, "": -1, "schedtrace=2147483647": 2147483647} {
		n, set := schedtrace(godebug)
		if !set {
			n = -1
		}
		if n != want {
			t.Errorf("schedtrace(%q) = %d, want %d (-1: not set)", godebug, n, want)
		}
	}
	if n, _ := schedtrace(MonitorAwake); n <= 0 {
		t.Errorf("MonitorAwake %q sets no positive interval (the runtime would ignore it)", MonitorAwake)
	}
}
