package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/renew"
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

// TestLoginErrorBinding: an issuer, client id or server mismatch is
// its own exit code (7), with both sides and the fix, not "login needed"
// (whose login would replace the real one); an identity change, or a
// record that names no issuer or Vault, is "login needed" (exit 4).
func TestLoginErrorBinding(t *testing.T) {
	for _, tc := range []struct {
		err    error
		code   int
		suffix string
	}{
		{&renew.BindingError{Profile: "ci", Issuer: "https://a", ClientID: "c", ConfiguredIssuer: "https://b", ConfiguredClientID: "c"}, exitMismatch, "alilogin login --profile ci, which replaces this login and revokes its tokens"},
		{&renew.ServerBindingError{Profile: "ci", Server: "Nomad", Recorded: "https://n1:4646", Configured: "https://n2:4646"}, exitMismatch, "alilogin login --profile ci, which replaces this login and revokes its tokens"},
		{&renew.BindingError{Profile: "ci", Issuer: "https://a", ConfiguredIssuer: "https://a", ConfiguredClientID: "c"}, exitLoginNeeded, "run: alilogin login --profile ci"},
		{&renew.ServerBindingError{Profile: "ci", Server: "Vault", Unrecorded: true}, exitLoginNeeded, "run: alilogin login --profile ci"},
		{&renew.IdentityChangedError{Profile: "ci", Issuer: "https://a", Subject: "s", GotIssuer: "https://a", GotSubject: "t"}, exitLoginNeeded, "run: alilogin login --profile ci"},
	} {
		got := loginError("ci", tc.err)
		if cmdroot.Code(got, exitError) != tc.code || !strings.Contains(got.Error(), tc.err.Error()) || !strings.HasSuffix(got.Error(), tc.suffix) {
			t.Errorf("loginError(%v) = %v (exit %d), want exit %d", tc.err, got, cmdroot.Code(got, exitError), tc.code)
		}
		if tc.code == exitMismatch && !strings.Contains(got.Error(), "to use this login, unset ") {
			t.Errorf("loginError(%v) = %v: no fix named", tc.err, got)
		}
	}
}
