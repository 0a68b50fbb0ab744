package main

import (
	"encoding/json"
	"testing"

	"github.com/alisw/alilogin/internal/buildinfo"
)

// TestVersion: `broker version` and `broker --version` print the same
// one line; `broker version --json` one object.
func TestVersion(t *testing.T) {
	want := buildinfo.Read().Line("broker") + "\n"
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, errs := runBroker(nil, args...)
		if code != exitOK || out != want || errs != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want stdout %q", args, code, out, errs, want)
		}
	}
	code, out, errs := runBroker(nil, "version", "--json")
	var got buildinfo.Info
	if err := json.Unmarshal([]byte(out), &got); code != exitOK || err != nil || errs != "" || got != buildinfo.Read() {
		t.Errorf("version --json: exit %d, stdout %q, stderr %q, %v; decoded %+v", code, out, errs, err, got)
	}
}
