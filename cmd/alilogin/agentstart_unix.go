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
	"syscall"
	"time"

	"github.com/alisw/alilogin/internal/agent"
)

// agentStartWait bounds how long a command waits for an agent it started
// to answer.
const agentStartWait = 30 * time.Second

// ensureAgent returns the running agent's status answer, starting the
// agent first when none answers (as ssh-agent and gpg-agent are started
// on demand): `alilogin agent run` in its own session, its stderr
// appended to agent.log in the agent directory, and a pipe on which it
// says when it serves. Two commands starting one at once: the second
// agent finds the first's lock and exits, and its starter asks the
// first.
func ensureAgent(ctx context.Context, e *cmdEnv, dir string) (*agent.Answer, error) {
	a, err := agent.Call(ctx, dir, agent.Request{Op: "status"})
	if err == nil || !errors.Is(err, agent.ErrNotRunning) {
		return a, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("could not start the agent: %w", err)
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
	cmd.Env = e.environ()
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
	a, err = agent.Call(ctx, dir, agent.Request{Op: "status"})
	if err != nil {
		return nil, fmt.Errorf("could not start the agent (see %s): %w", filepath.Join(dir, agent.LogName), err)
	}
	return a, nil
}
