package main

import (
	"context"

	"github.com/alisw/alilogin/internal/session"
)

// agentSession opens the session when the command may run in agent mode
// (--agent, or no --agent=false: the profile's setting decides) and says
// whether it does.
func agentSession(e *cmdEnv, so sessionOptions, f agentFlag) (*session.Session, bool, error) {
	if f.Set && !f.Agent {
		return nil, false, nil
	}
	s, err := openSession(e, so)
	if err != nil {
		return nil, false, err
	}
	return s, f.on(s), nil
}

// runExecAgent is `exec --agent`: COMMAND gets the agent's addresses and
// gates for the profile, no token, no certificate or key path.
func runExecAgent(ctx context.Context, e *cmdEnv, o *execOptions, s *session.Session, path string) error {
	kinds, err := session.ParseKinds(o.For)
	if err != nil {
		return err
	}
	a, err := openAgent(ctx, e, s.Profile, kinds)
	if err != nil {
		return err
	}
	environ := e.environ()
	env := childEnv(environ, withNoProxy(environ, agentVars(a, s.Profile, environ)), s.Profile)
	if len(o.Specs) > 0 {
		vals, err := readSecrets(ctx, s, o)
		if err != nil {
			return err
		}
		return execWithSecrets(e, path, o.Command, env, vals)
	}
	return execCommand(path, o.Command, env)
}
