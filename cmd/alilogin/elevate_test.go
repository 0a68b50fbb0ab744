package main

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/testutil"
)

// TestElevateExitCodes: elevate's usage errors (2) come before anything
// is done, a profile without an attended tier is 1, and token and env refuse --elevated (1)
// with the reason and nothing on stdout.
func TestElevateExitCodes(t *testing.T) {
	env := testutil.Home(t, map[string]string{"PATH": os.Getenv("PATH")})
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"2: --listen not on 127.0.0.1", []string{"elevate", "--listen", "[::1]:0"}, 2, "attended elevation listens on 127.0.0.1 only"},
		{"2: --end with a command", []string{"elevate", "--end", "--", "true"}, 2, "--end takes no COMMAND"},
		{"2: negative --uses", []string{"elevate", "--uses", "-1"}, 2, "must not be negative"},
		{"1: no attended tier", []string{"elevate", "-p", "ci"}, 1, "has no attended tier"},
		{"1: token --elevated", []string{"token", "--for", "nomad", "--elevated"}, 1, "stay in the alilogin agent"},
		{"1: env --elevated", []string{"env", "--elevated"}, 1, "stay in the alilogin agent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, out, errb := testEnv(env)
			if code := run(context.Background(), tc.args, e); code != tc.code || !strings.Contains(errb.String(), tc.stderr) || out.Len() != 0 {
				t.Errorf("alilogin %s: exit %d, stdout %q, stderr %q; want %d and %q", strings.Join(tc.args, " "), code, out.String(), errb.String(), tc.code, tc.stderr)
			}
		})
	}
}
