package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/agent"
	"github.com/alisw/alilogin/internal/envcontract"
	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/shellenv"
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

// openAgent opens profile in the user's agent (starting it when none
// runs) for the routes of kinds (every one the profile has when empty)
// and returns the gates. The agent renews the tokens with this
// command's environment (configuration, store, keyring).
func openAgent(ctx context.Context, e *cmdEnv, profile string, kinds []store.Kind) (*agent.Answer, error) {
	dir, err := agentDir(e)
	if err != nil {
		return nil, err
	}
	if _, err := ensureAgent(ctx, e, dir); err != nil {
		return nil, err
	}
	req := agent.Request{Op: "open", Profile: profile, Env: e.environ()}
	req.Kinds = kinds
	a, err := agent.Call(ctx, dir, req)
	if err != nil {
		return nil, err
	}
	if a.LoginNeeded {
		return nil, session.LoginNeeded(profile)
	}
	if a.Error != "" {
		return nil, fmt.Errorf("could not open profile %s in the agent: %s", profile, termtext.Clean(a.Error))
	}
	if len(a.Gates) == 0 {
		return nil, fmt.Errorf("could not open profile %s in the agent: it has no token for the servers asked for, or no address for them", profile)
	}
	return a, nil
}

// syncAgent tells the user's agent, if one runs, that a logout
// happened: it forgets at once the tokens and every gate of each profile
// no longer logged in. (It also notices by itself, through the stored
// login's generation, at the next request, on Linux.)
func syncAgent(ctx context.Context, e *cmdEnv) error {
	dir, err := agent.ExistingDir(e.getenv, os.Getuid())
	if errors.Is(err, agent.ErrNotRunning) {
		return nil
	}
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err = agent.Call(ctx, dir, agent.Request{Op: "sync"})
	if errors.Is(err, agent.ErrNotRunning) {
		return nil
	}
	return err
}

// agentVars is the environment for the gates of a: each server's address
// is the agent's route and its token a gate; the TLS settings of the
// real servers (CA, client certificate and key files, server name,
// CONSUL_HTTP_SSL) are unset, and so is every variable that would send
// the gate elsewhere (envcontract.Clear); then the profile.
func agentVars(a *agent.Answer, profile string, environ []string) []shellenv.Var {
	return agentVarsOn(a, profile, environ, runtime.GOOS)
}

func agentVarsOn(a *agent.Answer, profile string, environ []string, goos string) []shellenv.Var {
	var vars []shellenv.Var
	var servers []store.Kind
	var handled []string
	for _, g := range a.Gates {
		s := g.Server
		x := envcontract.For(s)
		addr := g.Addr
		vars = append(vars, shellenv.Var{Name: x.Token, Value: g.Gate}, shellenv.Var{Name: x.Addr, Value: addr})
		handled = append(handled, x.Token, x.Addr)
		for _, n := range []string{x.CACert, x.ClientCert, x.ClientKey, x.TLSServerName} {
			vars = append(vars, shellenv.Var{Name: n, Unset: true})
			handled = append(handled, n)
		}
		if s == store.Consul {
			vars = append(vars, shellenv.Var{Name: "CONSUL_HTTP_SSL", Unset: true})
			handled = append(handled, "CONSUL_HTTP_SSL")
		}
		servers = append(servers, s)
	}
	// No server's token, token file, client certificate or key reaches a
	// tool in agent mode, routed or not: a direct-mode shell's key paths
	// (one key for all servers) and tokens are unset too.
	for _, s := range store.Kinds {
		x := envcontract.For(s)
		for _, n := range []string{x.Token, x.ClientCert, x.ClientKey} {
			if !slices.Contains(handled, n) {
				vars = append(vars, shellenv.Var{Name: n, Unset: true})
				handled = append(handled, n)
			}
		}
	}
	for _, n := range agentUnsetAlways {
		if !slices.Contains(handled, n) {
			vars = append(vars, shellenv.Var{Name: n, Unset: true})
			handled = append(handled, n)
		}
	}
	set := func(n string) bool { return slices.Contains(handled, n) }
	for _, n := range envcontract.Clear(servers, set, environ, goos) {
		vars = append(vars, shellenv.Var{Name: n, Unset: true})
	}
	vars = withAgentSaved(vars, environ) // agentenv.go
	return append(vars, shellenv.Var{Name: envcontract.ProfileVar, Value: profile})
}

// agentUnsetAlways are the variables that carry a token another way
// (a file of it, consul-template's name), unset in agent mode whichever
// servers it routes.
var agentUnsetAlways = []string{"CONSUL_HTTP_TOKEN_FILE", "CONSUL_TOKEN", envcontract.ExpiryVar}
