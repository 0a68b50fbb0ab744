package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/agent"
	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/termtext"
)

// agentOptions are the flags of `alilogin agent`'s subcommands.
type agentOptions struct {
	JSON     bool
	NotifyFD int // run: write "ready" on this descriptor once serving (agentstart*.go)
}

func newAgentCmd(e *cmdEnv) *cobra.Command {
	o := &agentOptions{}
	c := &cobra.Command{
		Use:   "agent start|stop|status|run",
		Short: "The per-user agent: tools get gates, the real tokens stay in it",
		Long: `The alilogin agent holds each profile's real tokens and client certificate in
its memory and serves a loopback address for each of Nomad, Consul and Vault.
'alilogin exec --agent' and 'alilogin env --agent' give tools those addresses
and a gate: a random stand-in for the token, which the agent swaps for the real
one (presenting the client certificate and checking the server) and which no
server accepts. The agent starts on demand; one runs per user, found through a
0700 directory derived from the uid (/run/user/UID/alilogin-agent, else a
random alilogin-agent-UID-N in the temporary directory, named in
~/.local/state/alilogin/agent-dir.HOST; ALILOGIN_AGENT_DIR names another). 'alilogin logout' drops the profile from it at once.

  start    start the agent in the background (nothing when it runs)
  stop     stop it: every gate dies, streams through it end
  status   its routes and, per profile, servers, gates issued, requests, errors
  run      run it in the foreground, logging to stderr (for a systemd unit)`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"start", "stop", "status", "run"},
		RunE: func(c *cobra.Command, args []string) error {
			switch args[0] {
			case "run":
				return runAgent(c.Context(), e, o)
			case "start":
				return startAgentCmd(c.Context(), e)
			case "stop":
				return stopAgent(c.Context(), e)
			case "status":
				return agentStatus(c.Context(), e, o)
			}
			return cmdroot.With(exitUsage, fmt.Errorf("unknown agent command %q: want start, stop, status or run", args[0]))
		},
	}
	c.Flags().BoolVar(&o.JSON, "json", false, "status: print JSON")
	c.Flags().IntVar(&o.NotifyFD, "notify-fd", 0, "run: write a line on this file descriptor once serving")
	_ = c.Flags().MarkHidden("notify-fd")
	return c
}

// agentDir is the user's agent directory (agent.Dir).
func agentDir(e *cmdEnv) (string, error) { return agent.Dir(e.getenv, os.Getuid()) }

func runAgent(ctx context.Context, e *cmdEnv, o *agentOptions) error {
	dir, err := agentDir(e)
	if err != nil {
		return err
	}
	ready := notifier(o.NotifyFD)
	tuned := agent.TuneRuntime()
	err = agent.Run(ctx, agent.Options{Dir: dir, UID: os.Getuid(), Loader: agent.SessionLoader{Stderr: e.Stderr, Now: e.Now, Explain: loginError},
		Stderr: e.Stderr, Now: e.Now, Ready: ready, Memory: lockMemory() + "; " + tuned})
	if errors.Is(err, agent.ErrRunning) {
		return fmt.Errorf("%w (%s)", err, dir)
	}
	return err
}

// notifier writes "ready" on fd once (the starter's pipe).
func notifier(fd int) func() {
	if fd <= 2 {
		return nil
	}
	return func() {
		f := os.NewFile(uintptr(fd), "notify")
		if f == nil {
			return
		}
		_, _ = f.WriteString("ready\n")
		_ = f.Close()
	}
}

func startAgentCmd(ctx context.Context, e *cmdEnv) error {
	dir, err := agentDir(e)
	if err != nil {
		return err
	}
	a, err := spawnAgent(ctx, e, dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Stderr, "alilogin: the agent is running (instance %s)\n", shortID(a.Instance))
	return nil
}

// askAgent sends op (stop, status) to the user's agent, waiting at most
// 10 s for its answer, and returns the agent directory it asked.
func askAgent(ctx context.Context, e *cmdEnv, op string) (a *agent.Answer, dir string, err error) {
	// Only looks: no directory is made (ErrNotRunning without one).
	if dir, err = agent.ExistingDir(e.getenv, os.Getuid()); err != nil {
		return nil, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	a, err = agent.Call(ctx, dir, agent.Request{Op: op})
	return a, dir, err
}

func stopAgent(ctx context.Context, e *cmdEnv) error {
	a, dir, err := askAgent(ctx, e, "stop")
	if errors.Is(err, agent.ErrNotRunning) {
		fmt.Fprintln(e.Stderr, "alilogin: the agent is not running")
		return nil
	}
	if err != nil {
		return err
	}
	if a.Error != "" {
		return errors.New(termtext.Clean(a.Error))
	}
	// It answers before it has ended: "stopped" once it has, so that a
	// start right after does not find it running.
	if err := agent.WaitEnded(ctx, dir); err != nil {
		return fmt.Errorf("could not see the agent (instance %s) end: %w", shortID(a.Instance), err)
	}
	fmt.Fprintf(e.Stderr, "alilogin: stopped the agent (instance %s)\n", shortID(a.Instance))
	return nil
}

func agentStatus(ctx context.Context, e *cmdEnv, o *agentOptions) error {
	a, _, err := askAgent(ctx, e, "status")
	if err != nil {
		return err
	}
	if a.Error != "" || a.Status == nil {
		return fmt.Errorf("could not read the agent's status: %s", termtext.Clean(a.Error))
	}
	st := a.Status
	if o.JSON {
		enc := json.NewEncoder(e.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	w := e.Stdout
	fmt.Fprintf(w, "agent:    instance %s, pid %d, since %s\n", shortID(st.Instance), st.PID, st.Started.Local().Format(time.RFC3339))
	fmt.Fprintf(w, "dir:      %s\n", termtext.Clean(st.Dir))
	fmt.Fprintf(w, "memory:   %s\n", termtext.Clean(st.Memory))
	for _, k := range agent.Kinds {
		fmt.Fprintf(w, "route:    %-6s %s\n", k, st.Routes[k])
	}
	slices.SortFunc(st.Profiles, func(a, b agent.ProfileStatus) int { return cmpStrings(a.Name, b.Name) })
	if len(st.Profiles) == 0 {
		fmt.Fprintln(w, "profiles: none opened")
	}
	for _, p := range st.Profiles {
		fmt.Fprintf(w, "profile:  %s: %d gates issued, %d requests, %d errors\n", termtext.Clean(p.Name), p.Gates, p.Requests, p.Errors)
		for _, k := range agent.Kinds {
			if addr, ok := p.Servers[k]; ok {
				fmt.Fprintf(w, "          %-6s -> %s\n", k, termtext.Clean(addr))
			}
		}
		if p.LastError != "" {
			fmt.Fprintf(w, "          last error: %s\n", termtext.Clean(p.LastError))
		}
		if p.Window != nil {
			fmt.Fprintf(w, "          attended window: %s\n", windowText(p.Window, e.now()))
		}
	}
	// The web UIs' browser sessions: never their host name (its label
	// is the session's) nor their cookie.
	if len(st.UISessions) == 0 {
		fmt.Fprintln(w, "web UI:   no browser session")
	}
	for _, s := range st.UISessions {
		last := "never used"
		if !s.LastUse.IsZero() {
			last = "last use " + s.LastUse.Local().Format(time.RFC3339)
		}
		if !s.Entered {
			last = "waiting for its browser"
		}
		fmt.Fprintf(w, "web UI:   %-6s profile %s, since %s, %s, %d requests\n", s.Server, termtext.Clean(s.Profile), s.Started.Local().Format(time.RFC3339), last, s.Requests)
	}
	return nil
}

func cmpStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
