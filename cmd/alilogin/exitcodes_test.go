package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/testutil"
)

// TestExitCodes: each code of the table in docs/commands.md that alilogin
// can end with without a server, as the number a script sees. (With the
// servers: 3 for a partial login, cmd/alilogin/e2e TestNomadDown; 4 after
// the SSO session ended, TestTokenChain.)
func TestExitCodes(t *testing.T) {
	env := testutil.Home(t, map[string]string{"PATH": os.Getenv("PATH")})
	tests := []struct {
		name   string
		args   []string
		env    map[string]string
		code   int
		stderr string // substring
	}{
		{"0: version", []string{"version"}, nil, 0, ""},
		{"1: nested exec", []string{"exec", "--", "true"}, map[string]string{"ALILOGIN_EXEC": "ci"}, 1, "nesting is refused"},
		{"2: unknown flag", []string{"token", "--bogus"}, nil, 2, "unknown flag: --bogus"},
		{"2: unknown command", []string{"tokne"}, nil, 2, "unknown command"},
		{"2: unknown --for", []string{"token", "--for", "bogus"}, nil, 2, "bogus"},
		{"2: --listen on every address", []string{"login", "--listen", "0.0.0.0:0"}, nil, 2, `invalid --listen "0.0.0.0:0": only a loopback address`},
		{"2: --listen with a bad port", []string{"login", "--listen", "127.0.0.1:99999"}, nil, 2, `invalid --listen "127.0.0.1:99999"`},
		{"2: --listen not an address", []string{"login", "--listen", "somewhere"}, nil, 2, `invalid --listen "somewhere"`},
		{"4: nothing stored", []string{"status"}, nil, 4, "not logged in; run: alilogin login"},
		{"4: token, nothing stored", []string{"token", "--for", "vault", "-p", "ci"}, nil, 4, "alilogin login"},
		{"127: exec of a command that is not found", []string{"exec", "--", "alilogin-no-such-command"}, nil, 127, "could not find command alilogin-no-such-command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]string{}
			for k, v := range env {
				m[k] = v
			}
			for k, v := range tc.env {
				m[k] = v
			}
			e, _, errb := testEnv(m)
			if code := run(context.Background(), tc.args, e); code != tc.code || !strings.Contains(errb.String(), tc.stderr) {
				t.Errorf("alilogin %s: exit %d, stderr %q; want %d and %q", strings.Join(tc.args, " "), code, errb.String(), tc.code, tc.stderr)
			}
		})
	}
}

// TestExitCodePartialLogout: 3 when logout deleted the login but could
// not revoke it (here: the configuration is invalid, so nothing is sent).
func TestExitCodePartialLogout(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "config.hcl")
	if err := os.WriteFile(cfgFile, []byte("vault {\n  mount = \"../../sys\"\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HOME": dir, "XDG_STATE_HOME": filepath.Join(dir, "state"), "XDG_CONFIG_HOME": filepath.Join(dir, "config"),
		"ALILOGIN_STORE": "file", "ALILOGIN_KERNEL_CACHE": "off", "ALILOGIN_CONFIG": cfgFile}
	st := openFileStore(t, env)
	now := time.Now()
	if err := st.Put(&store.Record{Version: store.RecordVersion, Profile: "ci", User: "alice",
		Vault: &store.Token{Secret: secret.New("hvs.live"), IssuedAt: now, ExpiresAt: now.Add(time.Hour)}, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	e, _, errb := testEnv(env)
	if code := run(context.Background(), []string{"logout"}, e); code != 3 {
		t.Errorf("logout: exit %d, want 3; stderr %q", code, errb.String())
	}
}
