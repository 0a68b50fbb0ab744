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
	"github.com/alisw/alilogin/internal/secret"
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

// agentHandout is what a program is given in agent mode: for each gate
// of a, the agent's route as the server's address and the gate as its
// token, plain HTTP (envcontract.Endpoint.Plain: the real servers' TLS
// settings are unset: the agent checks them and presents the client
// certificate), and no expiry (a gate does not expire).
func agentHandout(a *agent.Answer, profile string) envcontract.Handout {
	h := envcontract.Handout{Profile: profile}
	for _, g := range a.Gates {
		h.Endpoints = append(h.Endpoints, envcontract.Endpoint{Kind: g.Server, Token: secret.New(g.Gate), Addr: g.Addr, Plain: true})
	}
	return h
}

// agentVars is the environment for the gates of a (the environment
// contract of agentHandout), with ALILOGIN_AGENT_ENV (agentenv.go).
func agentVars(a *agent.Answer, profile string, environ []string) []shellenv.Var {
	return agentVarsOn(a, profile, environ, runtime.GOOS)
}

func agentVarsOn(a *agent.Answer, profile string, environ []string, goos string) []shellenv.Var {
	vars := agentHandout(a, profile).VarsOn(environ, goos)
	vars = append(vars, agentUnsets(vars)...)
	return append(vars, agentSavedVar(vars, environ))
}

// agentChildOn is the environment of exec --agent's child on goos: the
// handout's (envcontract.Handout.ChildOn) with agentUnsets and
// ALILOGIN_AGENT_ENV.
func agentChildOn(a *agent.Answer, profile string, environ []string, goos string) []string {
	h := agentHandout(a, profile)
	vars := h.VarsOn(environ, goos)
	extra := agentUnsets(vars)
	return envcontract.ApplyOn(h.ChildOn(environ, goos), append(extra, agentSavedVar(append(vars, extra...), environ)), goos)
}

// agentUnsets are the variables agent mode unsets beyond vars (the
// handout's): no server's token, token file, client certificate or key
// reaches a tool in agent mode, routed or not, so that a direct-mode
// shell's key paths (one key for all servers) and tokens do not either.
func agentUnsets(vars []shellenv.Var) []shellenv.Var {
	var names []string
	for _, s := range store.Kinds {
		x := envcontract.For(s)
		names = append(names, x.Token, x.ClientCert, x.ClientKey)
	}
	var out []shellenv.Var
	for _, n := range append(names, agentUnsetAlways...) {
		if !slices.ContainsFunc(vars, func(v shellenv.Var) bool { return v.Name == n }) {
			out = append(out, shellenv.Var{Name: n, Unset: true})
		}
	}
	return out
}

// agentUnsetAlways are the variables that carry a token another way
// (a file of it, consul-template's name), unset in agent mode whichever
// servers it routes.
var agentUnsetAlways = []string{"CONSUL_HTTP_TOKEN_FILE", "CONSUL_TOKEN", envcontract.ExpiryVar}
