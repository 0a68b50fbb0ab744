package main

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestExecWithoutCommandStartsShell: `alilogin exec` with no command runs
// $SHELL (as aws-vault does), /bin/sh without it; on Windows %ComSpec%,
// else cmd.exe. No usage error.
func TestExecWithoutCommandStartsShell(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		goos string
		want []string
	}{
		{"SHELL", map[string]string{"SHELL": "/usr/bin/zsh"}, "linux", []string{"/usr/bin/zsh"}},
		{"no SHELL", nil, "linux", []string{"/bin/sh"}},
		{"macOS", map[string]string{"SHELL": "/bin/zsh"}, "darwin", []string{"/bin/zsh"}},
		{"Windows", map[string]string{"ComSpec": `C:\Windows\system32\cmd.exe`}, "windows", []string{`C:\Windows\system32\cmd.exe`}},
		{"Windows, nothing set", nil, "windows", []string{"cmd.exe"}},
		{"Windows, SHELL (Git Bash)", map[string]string{"SHELL": "/usr/bin/bash", "ComSpec": "cmd.exe"}, "windows", []string{"/usr/bin/bash"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := shellCommand(func(k string) string { return tc.env[k] }, tc.goos); !cmp.Equal(got, tc.want) {
				t.Errorf("shellCommand = %q, want %q", got, tc.want)
			}
		})
	}

	e, _, _ := testEnv(map[string]string{"SHELL": "/usr/bin/fish"})
	var got *execOptions
	c := newExecCmdWith(e, func(_ context.Context, _ *cmdEnv, o *execOptions) error { got = o; return nil })
	if code := runCmd(e, c, []string{"--profile", "ci-user"}); code != 0 || got == nil || !cmp.Equal(got.Command, []string{"/usr/bin/fish"}) {
		t.Errorf("exec --profile ci-user: exit %d, options %+v; want 0 and /usr/bin/fish", code, got)
	}
}
