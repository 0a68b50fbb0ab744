package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/agent"
	"github.com/alisw/alilogin/internal/testutil"
)

// `agent status` and `agent stop` only look: without an agent directory
// they say no agent runs and make none.
func TestAgentStatusAndStopOnlyLook(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "agent")
	env := testutil.Home(t, map[string]string{agent.DirVar: missing})
	e, _, _ := testEnv(env)
	if err := agentStatus(context.Background(), e, &agentOptions{}); !errors.Is(err, agent.ErrNotRunning) {
		t.Errorf("agent status without an agent: %v, want %v", err, agent.ErrNotRunning)
	}
	e, _, stderr := testEnv(env)
	if code := runCmd(e, newAgentCmd(e), []string{"stop"}); code != 0 || !strings.Contains(stderr.String(), "not running") {
		t.Errorf("agent stop without an agent: exit %d, stderr %q, want 0 and that the agent is not running", code, stderr.String())
	}
	if _, err := os.Lstat(missing); !os.IsNotExist(err) {
		t.Errorf("agent status or stop made the agent directory (%v)", err)
	}
}

// A logout that cannot reach the agent warns, and the warning carries no
// control character of the directory's name.
func TestLogoutWarnsCleanlyOfAnUnreachableAgent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "agent\x1b]0;pwned\a")
	if err := os.Mkdir(dir, 0o750); err != nil { // not private: refused
		t.Fatal(err)
	}
	env := testutil.Home(t, map[string]string{agent.DirVar: dir})
	e, _, stderr := testEnv(env)
	runCmd(e, newLogoutCmd(e), []string{"--profile", "ci"})
	if !strings.Contains(stderr.String(), "could not tell the agent") || strings.ContainsAny(stderr.String(), "\x1b\a") {
		t.Errorf("stderr %q: want a warning about the agent without control characters", stderr.String())
	}
}
