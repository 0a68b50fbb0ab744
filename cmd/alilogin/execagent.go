package main

import (
	"context"

	"github.com/alisw/alilogin/internal/kvsecret"
	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/store"
)

// runExecAgent is `exec --agent`: COMMAND gets the agent's routes and
// gates for the profile (envcontract.StandIns), no token, no certificate or key
// path; with --secret, the secrets are read with the Vault token as
// without the agent (they are what COMMAND asked for).
func runExecAgent(ctx context.Context, e *cmdEnv, o *execOptions, s *session.Session, path string, eo session.EnsureOptions) error {
	open := openAgent
	if o.Elevated {
		open = openElevated
	}
	a, err := open(ctx, e, s.Profile, eo.Kinds)
	if err != nil {
		return err
	}
	environ := e.environ()
	env := a.Child(s.Profile, environ) // envcontract.StandInChildOn
	if len(o.Specs) > 0 {
		rec, _, err := ensure(ctx, s, session.EnsureOptions{Kinds: []store.Kind{store.Vault}, MinTTL: o.MinTTL, Verbose: o.Verbose})
		if err != nil {
			return err
		}
		vals, err := kvsecret.ReadAt(ctx, s.Config.Vault.Addr, s.Config.Vault.TLS, rec.Vault.Secret, s.Profile, o.Specs)
		if err != nil {
			return err
		}
		return execWithSecrets(e, path, o.Command, env, vals)
	}
	return execCommand(path, o.Command, env)
}
