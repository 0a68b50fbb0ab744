package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/agent"
	"github.com/alisw/alilogin/internal/agent/guard"
	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/renew"
	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/store"
)

// sessionLoader is the agent's Loader: the renewal chain of `alilogin
// token` (session.Ensure, under the profile's lock), in the environment
// of the alilogin that opened the profile.
type sessionLoader struct {
	stderr io.Writer
	now    func() time.Time
}

func (l sessionLoader) Load(ctx context.Context, profile string, env []string, kinds []agent.Kind) (*agent.Creds, error) {
	getenv := envLookup(env)
	s, err := session.Open(session.Env{Getenv: getenv, Stderr: l.stderr, Now: l.now}, session.Options{Profile: profile})
	if err != nil {
		return nil, err
	}
	// A logout: nothing stored any more (the agent drops the profile).
	if _, err := s.Store.Get(profile); errors.Is(err, store.ErrNotFound) {
		return nil, agent.ErrNotLoggedIn
	}
	// Certificates configured by hand (a grid certificate) win, as in
	// env and exec; Ensure puts the login's files in s.Config otherwise.
	hand := map[agent.Kind]apiclient.TLS{agent.Vault: s.Config.Vault.TLS, agent.Nomad: s.Config.Nomad.TLS, agent.Consul: s.Config.Consul.TLS}
	rec, _, err := ensure(ctx, s, session.EnsureOptions{Kinds: kinds, MinTTL: renew.DefaultMinTTL})
	if err != nil {
		if isLoginNeeded(err) {
			return nil, fmt.Errorf("%w: %v", agent.ErrLoginNeeded, err)
		}
		return nil, err
	}
	c := &agent.Creds{Profile: profile, Tokens: map[agent.Kind]*store.Token{}, Servers: map[agent.Kind]agent.Upstream{}, Cert: rec.ClientCert,
		Rules: guard.FromConfig(s.Config, profile)} // read-only routes, the Vault mounts
	for _, k := range rec.Kinds() {
		ak := k
		c.Tokens[ak] = rec.Token(k)
		srv := s.Config.Server(k)
		u := agent.Upstream{Addr: srv.Addr, TLS: apiclient.TLS{CACert: srv.TLS.CACert, ServerName: srv.TLS.ServerName}}
		if h := hand[ak]; h.ClientCert != "" || h.ClientKey != "" {
			u.TLS.ClientCert, u.TLS.ClientKey = h.ClientCert, h.ClientKey
		} else if ak != agent.Vault && rec.ClientCert != nil {
			u.RecordCert = true
		}
		c.Servers[ak] = u
	}
	if _, gen, ok := store.Watch(getenv, profile); ok {
		c.Gen = string(gen)
		c.Watch = func() (string, bool) {
			_, g, ok := store.Watch(getenv, profile)
			return string(g), ok
		}
	}
	return c, nil
}

// envLookup is getenv over an environment list (the first entry of a
// name wins, as for getenv(3)).
func envLookup(env []string) func(string) string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			if _, seen := m[k]; !seen {
				m[k] = v
			}
		}
	}
	return func(k string) string { return m[k] }
}

func (l sessionLoader) Stored(ctx context.Context, profile string, env []string) (bool, error) {
	s, err := session.Open(session.Env{Getenv: envLookup(env), Stderr: l.stderr, Now: l.now}, session.Options{Profile: profile})
	if err != nil {
		return false, err
	}
	_, err = s.Store.Get(profile)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
