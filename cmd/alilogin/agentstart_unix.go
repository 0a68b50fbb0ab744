//go:build unix

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/alisw/alilogin/internal/agent"
	"github.com/alisw/alilogin/internal/termtext"
)

// agentStartWait bounds how long a command waits for an agent it started
// to answer.
const agentStartWait = 30 * time.Second

// agentOrStarter is the running agent's status answer (or the error of
// asking it), or, when no agent answers, this program's path to start
// one with.
func agentOrStarter(ctx context.Context, dir string) (*agent.Answer, string, error) {
	a, err := agent.Call(ctx, dir, agent.Request{Op: "status"})
	if err == nil || !errors.Is(err, agent.ErrNotRunning) {
		return a, "", err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, "", fmt.Errorf("could not start the agent: %w", err)
	}
	return nil, exe, nil
}

// ensureAgent returns the running agent's status answer, starting the
// agent first when none answers (as ssh-agent and gpg-agent are started
// on demand) through `alilogin agent start`, run as a child that exits
// once the agent serves: the agent is then nobody's child but init's
// (or a subreaper's), not the child of the command exec runs next.
func ensureAgent(ctx context.Context, e *cmdEnv, dir string) (*agent.Answer, error) {
	a, exe, err := agentOrStarter(ctx, dir)
	if exe == "" {
		return a, err
	}
	var stderr strings.Builder
	cmd := exec.CommandContext(ctx, exe, "agent", "start")
	cmd.Env = e.environ()
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("could not start the agent: %w: %s", err, termtext.Clean(strings.TrimSpace(stderr.String())))
	}
	return agent.Call(ctx, dir, agent.Request{Op: "status"})
}

// spawnAgent starts `alilogin agent run` in its own session, its stderr
// appended to agent.log in the agent directory, with a pipe on which it
// says when it serves, and returns its status once it does, leaving it
// running. Two starting one at once: the second agent finds the first's
// lock and exits, and its starter asks the first.
func spawnAgent(ctx context.Context, e *cmdEnv, dir string) (*agent.Answer, error) {
	a, exe, err := agentOrStarter(ctx, dir)
	if exe == "" {
		return a, err
	}
	log, err := os.OpenFile(filepath.Join(dir, agent.LogName), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("could not start the agent: %w", err)
	}
	defer log.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("could not start the agent: %w", err)
	}
	defer r.Close()
	cmd := exec.Command(exe, "agent", "run", "--notify-fd", "3")
	env := e.environ()
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = agent.Environ(env)
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = log, log
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return nil, fmt.Errorf("could not start the agent: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	line := make(chan bool, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- s == "ready\n"
	}()
	wctx, cancel := context.WithTimeout(ctx, agentStartWait)
	defer cancel()
	select {
	case ok := <-line:
		if !ok {
			// It ended without serving: another agent may have won the
			// race to the lock; ask again.
			select {
			case <-exited:
			case <-wctx.Done():
			}
		}
	case <-wctx.Done():
		return nil, fmt.Errorf("could not start the agent: it did not answer within %s (see %s)", agentStartWait, filepath.Join(dir, agent.LogName))
	}
	_ = cmd.Process.Release()
	a, err = agent.Call(ctx, dir, agent.Request{Op: "status"})
	if err != nil {
		return nil, fmt.Errorf("could not start the agent (see %s): %w", filepath.Join(dir, agent.LogName), err)
	}
	return a, nil
}
