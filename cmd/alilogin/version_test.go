package main

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/buildinfo"
)

func runAlilogin(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &cmdEnv{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(string) string { return "" }})
	return code, out.String(), errb.String()
}

// TestVersion: `version` and `--version` print the same one line on
// stdout (version, commit, build date, Go version); `version --json` one
// object with the same fields. The -ldflags values are tested in
// internal/buildinfo and, on a release binary, in tools/release.
func TestVersion(t *testing.T) {
	want := buildinfo.Read().Line("alilogin") + "\n"
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, errs := runAlilogin(args...)
		if code != 0 || out != want || errs != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want stdout %q", args, code, out, errs, want)
		}
	}
	if !strings.HasPrefix(want, "alilogin ") || !strings.Contains(want, "(commit ") || !strings.Contains(want, runtime.Version()) {
		t.Errorf("version line %q", want)
	}
	code, out, errs := runAlilogin("version", "--json")
	var got buildinfo.Info
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil || errs != "" || strings.Count(out, "\n") != 1 {
		t.Fatalf("version --json: exit %d, stdout %q, stderr %q, %v", code, out, errs, err)
	}
	if got != buildinfo.Read() {
		t.Errorf("version --json = %+v, want %+v", got, buildinfo.Read())
	}
	if code, _, errs := runAlilogin("version", "extra"); code != exitUsage || errs == "" {
		t.Errorf("version extra: exit %d, stderr %q; want usage error", code, errs)
	}
}

// TestVersionNoShortFlag: -v stays --verbose's (token, env, exec), never
// the version.
func TestVersionNoShortFlag(t *testing.T) {
	if code, out, _ := runAlilogin("-v"); code != exitUsage || out != "" {
		t.Errorf("alilogin -v: exit %d, stdout %q; want a usage error", code, out)
	}
}
