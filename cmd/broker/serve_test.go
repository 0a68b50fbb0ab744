package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/leader"
	"github.com/alisw/alilogin/internal/reaper"
)

func TestServeFlags(t *testing.T) {
	defaults := ServeOptions{Dir: defaultDir, Listen: "127.0.0.1:8080", Interval: 5 * time.Minute, WatchInterval: 5 * time.Second,
		ReapGrace: reaper.DefaultGrace, LockKey: leader.DefaultKey, LogFormat: "text", LogLevel: "info"}
	for _, tc := range []struct {
		name string
		args []string
		want func(*ServeOptions)
	}{
		{"defaults", nil, func(*ServeOptions) {}},
		{"all", []string{"pol", "--listen", ":9000", "--interval", "30s", "--prune", "--reap-dry-run", "--reap-grace", "2h",
			"--no-lock", "--nomad-token-from-vault", "nomad/creds/b", "--consul-token-from-vault", "consul/creds/b",
			"--public-vault-addr", "https://v", "--log-format", "json", "--identity", "x"}, func(o *ServeOptions) {
			o.Dir, o.Listen, o.Interval, o.Prune, o.ReapDryRun, o.ReapGrace = "pol", ":9000", 30*time.Second, true, true, 2*time.Hour
			o.NoLock, o.NomadTokenPath, o.ConsulTokenPath, o.PublicVaultAddr, o.LogFormat, o.Identity = true, "nomad/creds/b", "consul/creds/b", "https://v", "json", "x"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got ServeOptions
			e := &cmdEnv{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(string) string { return "" }}
			c := newServeCmdWith(e, func(_ context.Context, o ServeOptions, _ *cmdEnv) error { got = o; return nil })
			c.SetArgs(tc.args)
			if err := c.Execute(); err != nil {
				t.Fatal(err)
			}
			want := defaults
			tc.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestServeUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name, msg string
		args      []string
	}{
		{"log format", "invalid --log-format", []string{"serve", "--log-format", "xml"}},
		{"log level", "invalid --log-level", []string{"serve", "--log-level", "loud"}},
		{"interval", "must be positive", []string{"serve", "--interval", "0s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runBroker(nil, tc.args...)
			if code != exitUsage || !strings.Contains(errs, tc.msg) {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
		})
	}
}

// TestServeNeedsConsulForItsLockOnly: with policies that use no Consul,
// serve starts its clients without a Consul address, but the leader lock
// lives in Consul: without --no-lock it says so and stops before talking
// to any server; a token to be read from Vault for a server with no
// address is refused the same way.
func TestServeNeedsConsulForItsLockOnly(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"broker.hcl":   "sso {\n  issuer    = \"https://sso.example.org\"\n  client_id = \"c\"\n}\nvault {}\n",
		"profiles.hcl": "profile \"p\" {\n  roles          = [\"r\"]\n  nomad_policies = [\"n\"]\n}\n",
		"nomad/n.hcl":  "namespace \"default\" {\n  policy = \"read\"\n}\n",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"VAULT_ADDR": "http://127.0.0.1:1", "VAULT_TOKEN": "v", "NOMAD_ADDR": "http://127.0.0.1:2", "NOMAD_TOKEN": "n"}
	for _, tc := range []struct {
		name string
		args []string
		msg  string
	}{
		{"the lock", []string{"serve", dir, "--listen", "127.0.0.1:0"}, "the leader lock needs Consul, which the policies do not use"},
		{"a Consul token from Vault", []string{"serve", dir, "--listen", "127.0.0.1:0", "--no-lock", "--consul-token-from-vault", "consul/creds/b"},
			"a token read from consul/creds/b has no server to go to"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runBroker(env, tc.args...)
			if code != exitError || !strings.Contains(errs, tc.msg) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errs, exitError, tc.msg)
			}
		})
	}
}
