package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/buildinfo"
)

// TestVersion: `broker version` and `broker --version` print the same
// one line; `broker version --json` one object.
func TestVersion(t *testing.T) {
	runBroker := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), args, &cmdEnv{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
		return code, out.String(), errb.String()
	}
	want := buildinfo.Read().Line("broker") + "\n"
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, errs := runBroker(args...)
		if code != exitOK || out != want || errs != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want stdout %q", args, code, out, errs, want)
		}
	}
	code, out, errs := runBroker("version", "--json")
	var got buildinfo.Info
	if err := json.Unmarshal([]byte(out), &got); code != exitOK || err != nil || errs != "" || got != buildinfo.Read() {
		t.Errorf("version --json: exit %d, stdout %q, stderr %q, %v; decoded %+v", code, out, errs, err, got)
	}
}
