package session

import (
	"context"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/elevate"
	"github.com/alisw/alilogin/internal/issue"
	"github.com/alisw/alilogin/internal/oidc"
)

// ElevateOptions are alilogin elevate's: the window asked for (For,
// Uses: elevate.Ask) and the browser sign-in's settings.
type ElevateOptions struct {
	For       time.Duration
	Uses      int
	NoBrowser bool
	Listen    string // empty: oidc.DefaultPorts on 127.0.0.1
	Timeout   time.Duration
	Progress  bool
	Commands  SignInCommands // what the sign-in's texts tell the user to run
}

// CheckListen refuses a --listen the attended sign-in cannot use
// (elevate.CheckListen: 127.0.0.1 only), before anything else is done.
func (o ElevateOptions) CheckListen() error {
	if o.Listen == "" {
		return nil
	}
	_, err := elevate.CheckListen(o.Listen)
	return err
}

// Tier is the attended tier of the session's profile (the broker's
// discovery document), an error when it has none.
func (s *Session) Tier() (*elevate.Tier, error) {
	p, _ := s.Config.Profile(s.Profile)
	return elevate.TierOf(s.Profile, p.Attended)
}

// Elevate signs the user in to the attended tier of the session's
// profile (elevate.Run) with the configured Vault and the engines'
// mounts, in the system browser unless o.NoBrowser or no browser can be
// shown (then the URL is printed, for ssh -L).
func (s *Session) Elevate(ctx context.Context, t *elevate.Tier, o ElevateOptions) (*elevate.Grant, error) {
	vault, err := apiclient.For(apiclient.Vault, s.Config.Vault.Addr, s.Config.Vault.TLS)
	if err != nil {
		return nil, err
	}
	var b oidc.Browser
	if !o.NoBrowser && oidc.CanShowBrowser(s.Env.getenv) {
		b = oidc.SystemBrowser{Output: s.Env.Stderr}
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = SignInTimeout
	}
	return elevate.Run(ctx, elevate.Options{
		Tier:     t,
		Ask:      elevate.Ask{For: o.For, Uses: o.Uses},
		Vault:    vault,
		Nomad:    issue.Target{Mount: s.Config.Nomad.Mount},
		Consul:   issue.Target{Mount: s.Config.Consul.Mount},
		Loopback: oidc.AuthCodeOptions{Listen: o.Listen, Browser: b, Stderr: s.Env.Stderr, Timeout: timeout, Progress: o.Progress, Commands: o.Commands},
		Now:      s.Env.now,
	})
}

// RevokeElevated revokes g's privileged Vault token (with it the Nomad
// and Consul tokens minted under it): a window the agent did not take.
func (s *Session) RevokeElevated(g *elevate.Grant) error {
	vault, err := apiclient.For(apiclient.Vault, s.Config.Vault.Addr, s.Config.Vault.TLS)
	if err != nil {
		return err
	}
	return elevate.Revoke(vault.WithToken(g.Vault.Secret), s.Env.Stderr)
}
