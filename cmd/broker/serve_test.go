package main

import (
	"bytes"
	"context"
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
			var errb bytes.Buffer
			code := run(context.Background(), tc.args, &cmdEnv{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: &errb, Getenv: func(string) string { return "" }})
			if code != exitUsage || !strings.Contains(errb.String(), tc.msg) {
				t.Fatalf("exit %d, stderr %q", code, errb.String())
			}
		})
	}
}
