package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/shellenv"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/tokenhelper"
)

func testEnv(env map[string]string) (*cmdEnv, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &cmdEnv{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] },
		Environ: func() []string { return nil },
		// The vault CLI that runs the token helper has the same
		// environment, and no address flag.
		VaultClient: func() (*tokenhelper.Client, error) {
			c := &tokenhelper.Client{PID: 2, Exe: "/usr/bin/vault"}
			for k, v := range env {
				c.Env = append(c.Env, k+"="+v)
			}
			return c, nil
		}}, &out, &errb
}

// openFileStore opens the store of env (a testutil.Home: the file store).
func openFileStore(t *testing.T, env map[string]string) store.Store {
	t.Helper()
	st, err := store.Open("file", func(k string) string { return env[k] }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestTokenArgs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want *tokenOptions
		code int
	}{
		{"nomad", []string{"--for", "nomad"}, &tokenOptions{For: "nomad", MinTTL: 5 * time.Minute}, 0},
		{"all flags", []string{"--for", "vault", "-p", "ci", "--min-ttl", "30s", "--login", "-v", "--store", "file"},
			&tokenOptions{sessionOptions: sessionOptions{Profile: "ci", Store: "file"}, For: "vault", MinTTL: 30 * time.Second, Login: true, Verbose: true}, 0},
		{"no --for", nil, nil, exitUsage},
		{"unknown --for", []string{"--for", "postgres"}, nil, exitUsage},
		{"argument", []string{"--for", "nomad", "extra"}, nil, exitUsage},
		{"bad duration", []string{"--for", "nomad", "--min-ttl", "soon"}, nil, exitUsage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, _, _ := testEnv(nil)
			var got *tokenOptions
			c := newTokenCmdWith(e, func(_ context.Context, _ *cmdEnv, o *tokenOptions) error { got = o; return nil })
			code := runCmd(e, c, tc.args)
			if code != tc.code {
				t.Fatalf("exit %d, want %d", code, tc.code)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(tokenOptions{}, execOptions{})); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

// runCmd runs subcommand c under the real root, as run() does, and
// returns the exit code.
func runCmd(e *cmdEnv, c *cobra.Command, args []string) int {
	root := newRootCmd(context.Background(), e)
	for _, sub := range root.Commands() {
		if sub.Name() == c.Name() {
			root.RemoveCommand(sub)
		}
	}
	root.AddCommand(c)
	root.SetArgs(append([]string{c.Name()}, args...))
	return exitCode(root.Execute())
}

func TestExecArgs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want *execOptions
		code int
	}{
		{"command after --", []string{"--for", "nomad", "--", "nomad", "job", "status", "-verbose"},
			&execOptions{For: []string{"nomad"}, MinTTL: 5 * time.Minute, Command: []string{"nomad", "job", "status", "-verbose"}}, 0},
		{"flags after the command are its own", []string{"-p", "ci", "sh", "-c", "echo --for"},
			&execOptions{sessionOptions: sessionOptions{Profile: "ci"}, MinTTL: 5 * time.Minute, Command: []string{"sh", "-c", "echo --for"}}, 0},
		{"no command: a shell", nil, &execOptions{MinTTL: 5 * time.Minute, Command: []string{"/bin/sh"}}, 0},
		{"nothing after --: a shell", []string{"-p", "ci", "--"}, &execOptions{sessionOptions: sessionOptions{Profile: "ci"}, MinTTL: 5 * time.Minute, Command: []string{"/bin/sh"}}, 0},
		{"unknown --for", []string{"--for", "nomad,x", "--", "true"}, nil, exitUsage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, _, _ := testEnv(nil)
			var got *execOptions
			c := newExecCmdWith(e, func(_ context.Context, _ *cmdEnv, o *execOptions) error { got = o; return nil })
			if code := runCmd(e, c, tc.args); code != tc.code {
				t.Fatalf("exit %d, want %d", code, tc.code)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(tokenOptions{}, execOptions{})); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEnvStatusLogoutArgs(t *testing.T) {
	e, _, _ := testEnv(map[string]string{"SHELL": "/usr/bin/fish"})
	var env *envOptions
	c := newEnvCmdWith(e, func(_ context.Context, _ *cmdEnv, o *envOptions) error { env = o; return nil })
	if code := runCmd(e, c, []string{"--for", "vault", "--for", "consul"}); code != 0 || env.Shell != shellenv.Fish || !cmp.Equal(env.For, []string{"vault", "consul"}) {
		t.Errorf("env: exit %d, %+v", code, env)
	}
	c = newEnvCmdWith(e, func(context.Context, *cmdEnv, *envOptions) error { return nil })
	if code := runCmd(e, c, []string{"--shell", "tcsh"}); code != exitUsage {
		t.Errorf("env --shell tcsh: exit %d", code)
	}
	sc := newStatusCmdWith(e, func(context.Context, *cmdEnv, *statusOptions) error { return nil })
	if code := runCmd(e, sc, []string{"--all", "-p", "x"}); code != exitUsage {
		t.Errorf("status --all -p: exit %d", code)
	}
	lc := newLogoutCmdWith(e, func(context.Context, *cmdEnv, *logoutOptions) error { return nil })
	if code := runCmd(e, lc, []string{"--all", "-p", "x"}); code != exitUsage {
		t.Errorf("logout --all -p: exit %d", code)
	}
}

func TestExecRefusesNesting(t *testing.T) {
	e, _, errb := testEnv(map[string]string{"ALILOGIN_EXEC": "ci"})
	code := run(context.Background(), []string{"exec", "--", "true"}, e)
	if code != exitError || !strings.Contains(errb.String(), "nesting is refused") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
}

func TestChildEnv(t *testing.T) {
	environ := []string{"PATH=/bin", "VAULT_TOKEN=stale", "NOMAD_TOKEN=stale", "CONSUL_HTTP_TOKEN=stale", "ALILOGIN_EXEC=", "VAULT_ADDR=old", "GITHUB_TOKEN=keep"}
	vars := []shellenv.Var{{Name: "VAULT_TOKEN", Value: "new"}, {Name: "VAULT_ADDR", Value: "https://v"}}
	got := childEnv(environ, vars, "ci")
	want := []string{"PATH=/bin", "GITHUB_TOKEN=keep", "VAULT_TOKEN=new", "VAULT_ADDR=https://v", "ALILOGIN_EXEC=ci"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("child env (-want +got):\n%s", diff)
	}
}

// TestEnvVars: the tokens, addresses and TLS settings of the kinds
// asked for; the variables of the environment contract that would
// reroute them unset (the ones that matter only without a CA file only
// for a server without one; BAO_* as the environment has them); GODEBUG
// without http2debug; the proxy variables left alone.
func TestEnvVars(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	cfg := &config.Config{
		Vault:  config.Server{Addr: "https://vault:8200", TLS: apiclient.TLS{CACert: "/ca.pem", ClientCert: "/c.pem", ClientKey: "/k.pem"}},
		Nomad:  config.Server{Addr: "https://nomad:4646"},
		Consul: config.Server{Addr: "https://consul:8501"},
	}
	rec := &store.Record{Profile: "ci",
		Vault:  &store.Token{Secret: secret.New("hvs.v"), ExpiresAt: now.Add(time.Hour)},
		Nomad:  &store.Token{Secret: secret.New("n"), ExpiresAt: now.Add(30 * time.Minute)},
		Consul: &store.Token{Secret: secret.New("c"), ExpiresAt: now.Add(2 * time.Hour)}}
	got := map[string]string{}
	environ := []string{"BAO_ADDR=http://evil:8200", "GODEBUG=gctrace=1,http2debug=2", "HTTP_PROXY=http://proxy:3128", "VAULT_CAPATH=/etc/other"}
	for _, v := range envVars(cfg, rec, []store.Kind{store.Vault, store.Nomad}, environ) {
		got[v.Name] = v.Value
		if v.Unset {
			got[v.Name] = "(unset)"
		}
	}
	want := map[string]string{
		"VAULT_TOKEN": "hvs.v", "VAULT_ADDR": "https://vault:8200", "VAULT_CACERT": "/ca.pem", "VAULT_CLIENT_CERT": "/c.pem", "VAULT_CLIENT_KEY": "/k.pem",
		"VAULT_AGENT_ADDR": "(unset)", "VAULT_PROXY_ADDR": "(unset)", "VAULT_HTTP_PROXY": "(unset)", "VAULT_SRV_LOOKUP": "(unset)",
		"VAULT_SKIP_VERIFY": "(unset)", "VAULT_CACERT_BYTES": "(unset)", "BAO_ADDR": "(unset)",
		"NOMAD_TOKEN": "n", "NOMAD_ADDR": "https://nomad:4646",
		"NOMAD_SKIP_VERIFY": "(unset)", "NOMAD_CAPATH": "(unset)", "SSL_CERT_FILE": "(unset)", "SSL_CERT_DIR": "(unset)",
		"GODEBUG":          "gctrace=1",
		"ALILOGIN_PROFILE": "ci", "ALILOGIN_TOKEN_EXPIRY": "2026-11-27T10:30:00Z",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
}

func TestCompletion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		e, out, errb := testEnv(nil)
		if code := run(context.Background(), []string{"completion", sh}, e); code != 0 || !strings.Contains(out.String(), "alilogin") {
			t.Errorf("completion %s: exit %d, %d bytes, stderr %q", sh, code, out.Len(), errb.String())
		}
	}
	e, out, _ := testEnv(nil)
	if code := run(context.Background(), []string{"__complete", "token", "--for", ""}, e); code != 0 {
		t.Fatalf("__complete: exit %d", code)
	}
	for _, k := range []string{"vault", "nomad", "consul"} {
		if !strings.Contains(out.String(), k+"\n") {
			t.Errorf("completion of --for lacks %s:\n%s", k, out.String())
		}
	}
	e, out, _ = testEnv(nil)
	run(context.Background(), []string{"__complete", "env", "--shell", ""}, e)
	if !strings.Contains(out.String(), "fish\n") || !strings.Contains(out.String(), "powershell\n") {
		t.Errorf("completion of --shell:\n%s", out.String())
	}
}
