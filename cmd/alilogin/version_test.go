package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestVersion: one line on stdout, the -ldflags version when set.
func TestVersion(t *testing.T) {
	old := version
	t.Cleanup(func() { version = old })
	for _, tc := range []struct{ set, want string }{{"v1.2.3", "alilogin v1.2.3\n"}, {"", "alilogin "}} {
		version = tc.set
		var out, errb bytes.Buffer
		code := run(context.Background(), []string{"version"}, &cmdEnv{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
			Getenv: func(string) string { return "" }})
		if code != 0 || !strings.HasPrefix(out.String(), tc.want) || strings.Count(out.String(), "\n") != 1 || errb.Len() != 0 {
			t.Errorf("version %q: exit %d, stdout %q, stderr %q", tc.set, code, out.String(), errb.String())
		}
	}
}
