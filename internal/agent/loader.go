package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/alisw/alilogin/internal/agent/guard"
	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/store"
)

// SessionLoader is the agent's Loader of alilogin: the renewal chain of
// `alilogin token` (session.Ensure, under the profile's lock), in the
// environment of the alilogin that opened the profile.
type SessionLoader struct {
	Stderr io.Writer
	Now    func() time.Time
	// Explain, if set, turns an error of session.Ensure or of reading
	// the stored login into what the user should do next (the command's
	// hint); the error keeps its chain. Nil: the error as it is.
	Explain func(profile string, err error) error
}

// Load is Loader.Load: ErrNotLoggedIn when nothing is stored for the
// profile, ErrLoginNeeded (wrapped) when only a new login helps
// (session.LoginNeeded).
func (l SessionLoader) Load(ctx context.Context, profile string, env []string, kinds []Kind) (*Creds, error) {
	getenv := EnvLookup(env)
	s, err := session.Open(session.Env{Getenv: getenv, Stderr: l.Stderr, Now: l.Now}, session.Options{Profile: profile})
	if err != nil {
		return nil, err
	}
	// A logout: nothing stored any more (the agent drops the profile).
	if _, err := s.Store.Get(profile); errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotLoggedIn
	}
	// Certificates configured by hand (a grid certificate) win, as in
	// env and exec; Ensure puts the login's files in s.Config otherwise.
	hand := map[Kind]apiclient.TLS{Vault: s.Config.Vault.TLS, Nomad: s.Config.Nomad.TLS, Consul: s.Config.Consul.TLS}
	rec, _, err := s.Ensure(ctx, session.EnsureOptions{Kinds: kinds, MinTTL: session.DefaultMinTTL})
	if err != nil {
		needed := session.LoginNeeded(err)
		if l.Explain != nil {
			err = l.Explain(profile, err)
		}
		if needed {
			return nil, fmt.Errorf("%w: %v", ErrLoginNeeded, err)
		}
		return nil, err
	}
	c := &Creds{Profile: profile, Tokens: map[Kind]*store.Token{}, Servers: map[Kind]Upstream{}, Cert: rec.ClientCert,
		Rules: guard.FromConfig(s.Config, profile)} // read-only routes, the Vault mounts
	for _, k := range rec.Kinds() {
		ak := k
		c.Tokens[ak] = rec.Token(k)
		srv := s.Config.Server(k)
		u := Upstream{Addr: srv.Addr, TLS: apiclient.TLS{CACert: srv.TLS.CACert, ServerName: srv.TLS.ServerName}}
		if h := hand[ak]; h.ClientCert != "" || h.ClientKey != "" {
			u.TLS.ClientCert, u.TLS.ClientKey = h.ClientCert, h.ClientKey
		} else if ak != Vault && rec.ClientCert != nil {
			u.RecordCert = true
		}
		c.Servers[ak] = u
	}
	// The generation is read on each request (profile.usable): Watcher
	// reads the file only after its directory changed.
	if current, ok := store.Watcher(getenv, profile); ok {
		c.Gen = string(current())
		c.Watch = func() (string, bool) { return string(current()), true }
	}
	return c, nil
}

// Stored is Loader.Stored: whether a login is stored for the profile.
func (l SessionLoader) Stored(ctx context.Context, profile string, env []string) (bool, error) {
	s, err := session.Open(session.Env{Getenv: EnvLookup(env), Stderr: l.Stderr, Now: l.Now}, session.Options{Profile: profile})
	if err != nil {
		return false, err
	}
	_, err = s.Store.Get(profile)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil && l.Explain != nil {
		err = l.Explain(profile, err) // a corrupt record: what fixes it, in the agent's log
	}
	return err == nil, err
}
