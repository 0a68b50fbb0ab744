package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/agent"
	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

// This file is what exec, env and the hook share in agent mode: the
// --agent flag and the profile setting, opening the profile in the agent
// (started on demand), and the environment that points the CLIs at it
// with gates.

// agentFlag is --agent: given (Set) or not.
type agentFlag struct {
	Agent, Set bool
}

// addAgentFlag adds --agent.
func addAgentFlag(c *cobra.Command, v *agentFlag) {
	c.Flags().BoolVar(&v.Agent, "agent", false, "through the agent: gates instead of tokens (default: the profile's use_agent setting)")
}

// parse records whether --agent was given.
func (v *agentFlag) parse(c *cobra.Command) { v.Set = c.Flags().Changed("agent") }

// words is the flag as the hook's snippet passes it on ("" when not
// given: the profile's setting decides at each refresh).
func (v agentFlag) words() string {
	switch {
	case !v.Set:
		return ""
	case v.Agent:
		return "--agent"
	}
	return "--agent=false"
}

// on is whether the command runs in agent mode: --agent when given,
// else the profile's `agent` setting in the config file.
func (v agentFlag) on(s *session.Session) bool {
	if v.Set {
		return v.Agent
	}
	p, ok := s.Config.Profile(s.Profile)
	return ok && p.Agent
}

// runningAgent is the user's agent directory, with an agent serving in
// it: started when none was.
func runningAgent(ctx context.Context, e *cmdEnv) (string, error) {
	dir, err := agentDir(e)
	if err != nil {
		return "", err
	}
	if _, err := ensureAgent(ctx, e, dir); err != nil {
		return "", err
	}
	return dir, nil
}

// openAgent opens profile in the user's agent (starting it when none
// runs) for the routes of kinds (every one the profile has when empty)
// and returns the gates. The agent renews the tokens with this
// command's environment (configuration, store, keyring).
func openAgent(ctx context.Context, e *cmdEnv, profile string, kinds []store.Kind) (*agent.Answer, error) {
	dir, err := runningAgent(ctx, e)
	if err != nil {
		return nil, err
	}
	req := agent.Request{Op: "open", Profile: profile, Env: e.environ()}
	req.Kinds = kinds
	a, err := agent.Call(ctx, dir, req)
	if err != nil {
		return nil, err
	}
	if a.LoginNeeded {
		return nil, loginNeeded(profile)
	}
	if a.Error != "" {
		return nil, fmt.Errorf("could not open profile %s in the agent: %s", profile, termtext.Clean(a.Error))
	}
	if len(a.Gates) == 0 {
		return nil, fmt.Errorf("could not open profile %s in the agent: it has no token for the servers asked for, or no address for them", profile)
	}
	return a, nil
}
