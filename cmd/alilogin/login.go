package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/store"
)

// loginOptions are the flags of `alilogin login`.
type loginOptions struct {
	Profile   string
	Device    bool
	NoBrowser bool
	Listen    string
	Store     string
	JSON      bool
	Timeout   time.Duration
	Verbose   bool
	// Configuration overrides (the flags layer).
	Issuer    string
	ClientID  string
	VaultAddr string
}

func newLoginCmd(e *cmdEnv) *cobra.Command {
	var o loginOptions
	c := &cobra.Command{
		Use:   "login",
		Short: "Sign in through SSO and get Vault, Nomad and Consul tokens",
		Long: `Sign in through SSO (browser, or device code on machines without a display),
log in to Vault with the profile's JWT role, get the profile's Nomad and Consul
tokens, and keep them in the OS keyring. A summary goes to stderr; --json
prints it to stdout, without secrets.

The profile is --profile, else $ALILOGIN_PROFILE, the current profile
('alilogin use') or default_profile; else the one your roles allow among the
configured profiles, asked on a terminal when they allow several. With no
profile to log in to, login stops before any sign-in. A sign-in that could
not be used (several profiles and no terminal, an unknown profile) is kept
for 10 minutes: 'alilogin login --profile P' then needs no browser.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if o.Listen != "" {
				if err := session.CheckListen(o.Listen); err != nil {
					return cmdroot.With(exitUsage, err)
				}
			}
			return runLogin(c.Context(), e, o)
		},
	}
	f := c.Flags()
	f.StringVarP(&o.Profile, "profile", "p", "", "profile to log in to (default: $ALILOGIN_PROFILE, the current profile, default_profile, else the one your roles allow, asked on a terminal when they allow several)")
	f.BoolVar(&o.Device, "device", false, "use the device code flow (sign in on another device)")
	f.BoolVar(&o.NoBrowser, "no-browser", false, "do not open a browser; only print the URL")
	f.StringVar(&o.Listen, "listen", "", "loopback address for the SSO callback, 127.0.0.1:PORT or [::1]:PORT; the redirect URI names it (default: the first free of 127.0.0.1:8250, :18250, :28250)")
	f.StringVar(&o.Store, "store", "", "where to keep the tokens: keyring or file (default: $ALILOGIN_STORE, else the keyring with a file fallback)")
	f.BoolVar(&o.JSON, "json", false, "print the summary as JSON on stdout (no secrets)")
	f.DurationVar(&o.Timeout, "timeout", session.SignInTimeout, "how long to wait for the sign-in")
	f.BoolVarP(&o.Verbose, "verbose", "v", false, "print the time taken by each step on stderr")
	f.StringVar(&o.Issuer, "issuer", "", "SSO issuer URL (default: $ALILOGIN_ISSUER, the config file, else CERN SSO)")
	f.StringVar(&o.ClientID, "client-id", "", "OIDC client id (default: $ALILOGIN_CLIENT_ID or the config file)")
	f.StringVar(&o.VaultAddr, "vault-addr", "", "Vault address (default: $VAULT_ADDR or the config file)")
	return c
}

// stepTimer records how long each step took, for --verbose.
type stepTimer struct {
	w    io.Writer
	on   bool
	last time.Time
}

func (t *stepTimer) mark(step string) {
	now := time.Now()
	if t.on {
		fmt.Fprintf(t.w, "  [%s: %s]\n", step, now.Sub(t.last).Round(time.Millisecond))
	}
	t.last = now
}

func runLogin(ctx context.Context, e *cmdEnv, o loginOptions) error {
	se := e.session()
	cfg, err := session.LoginConfig(ctx, se, config.Config{Issuer: o.Issuer, ClientID: o.ClientID, Vault: config.Server{Addr: o.VaultAddr}, Store: o.Store}, o.Profile)
	if err != nil {
		return err
	}
	if _, err := session.ConfiguredServers(cfg); err != nil {
		return err
	}
	// Before any sign-in: with no profile chosen and none configured to
	// choose from, the sign-in would be for nothing.
	profile, err := session.LoginProfile(se, cfg, o.Profile)
	if err != nil {
		return err
	}
	st, err := store.Open(cfg.Store, e.Getenv, e.Stderr)
	if err != nil {
		return err
	}
	cl, err := session.NewClients(cfg)
	if err != nil {
		return err
	}
	tm := &stepTimer{w: e.Stderr, on: o.Verbose, last: time.Now()}

	// SSO discovery and, meanwhile, a check that Vault answers, so that
	// nobody signs in for nothing.
	preflight := make(chan error, 1)
	go func() { preflight <- session.LoginPreflight(ctx, se, cfg, cl, profile) }()
	sso, err := session.NewSSO(ctx, se, cfg)
	if err != nil {
		return err
	}
	if err := <-preflight; err != nil {
		return err
	}
	tm.mark("SSO discovery + Vault check")
	// The sign-in an earlier login kept (pending.go), else a new one.
	in := session.TakePending(ctx, se, cfg, st, sso)
	if in == nil {
		res, err := session.SignIn(ctx, se, sso, session.SignInOptions{Device: o.Device, NoBrowser: o.NoBrowser, Listen: o.Listen,
			Timeout: o.Timeout, Progress: !o.Verbose, Stderr: e.Stderr, Commands: signInCommands})
		if err != nil {
			return signInError(err)
		}
		in = &session.SignedIn{Result: res, At: e.now()}
		tm.mark("SSO sign-in (includes the user)")
		if o.Verbose && res.Exchange > 0 {
			fmt.Fprintf(e.Stderr, "  [of which code exchange + ID token verification: %s]\n", res.Exchange.Round(time.Millisecond))
		}
	}
	// From here the sign-in (fresh, or the one an earlier login kept and
	// TakePending took out of the store) is either stored with the login,
	// kept again for the next login (keepSignIn, which revokes it when it
	// cannot), or revoked at its SSO: a login that fails (no profile
	// allowed, Vault refuses, not stored) leaves no refresh token alive
	// that nobody holds. Not cancellable: a Ctrl-C still revokes it.
	settled := false
	defer func() {
		if !settled && !in.RefreshToken.Empty() {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			_ = sso.Revoke(rctx, in.RefreshToken) // best effort: the SSO session ends on its own
			cancel()
		}
	}()
	if profile == "" {
		var several bool
		if profile, several, err = chooseLoginProfile(ctx, e, cfg, in.Identity.Roles); several && err != nil {
			settled = true
			return keepSignIn(e, session.KeepPending(ctx, se, cfg, st, sso, in), in, err) // for `login --profile P`
		} else if err != nil {
			return err // none allowed: a role granted later needs a new sign-in
		}
	}
	out, err := session.Login(ctx, se, cfg, st, cl, session.Fresh{Profile: profile, IDToken: in.IDToken, RefreshToken: in.RefreshToken,
		Identity: in.Identity, RevokeRefresh: sso.Revoke, Mark: tm.mark})
	// A profile Vault does not know (a typo): the next login, with the
	// right name, needs no new sign-in. A refusal for the roles does: a
	// role granted later comes only with a new ID token.
	if session.UnknownProfile(err) {
		settled = true
		return keepSignIn(e, session.KeepPending(ctx, se, cfg, st, sso, in), in, err)
	}
	if err != nil {
		return err
	}
	settled = true // stored with the login
	sum := newLoginSummary(out, in, e.now())
	sum.Skipped = session.SkippedTokens(cfg, out.Profile.NoNomad, out.Profile.NoConsul)
	sum.write(e.Stderr, e.now())
	if c := session.DescribeCert(out.Record, e.now()); c != nil {
		fmt.Fprintf(e.Stderr, "client certificate: %s\n", c.Text(e.now()))
	}
	writeCurrentNote(e.Stderr, out)
	if o.JSON {
		if err := writeJSON(e.Stdout, sum); err != nil {
			return err
		}
	}
	if out.CertErr != nil {
		return cmdroot.With(exitPartial, fmt.Errorf("logged in, but without a client certificate: %w", out.CertErr))
	}
	if err := out.Minted.Err(); err != nil {
		return cmdroot.With(exitPartial, fmt.Errorf("logged in %s, but not everything was issued (the rest is kept):\n  %s",
			loggedInAt(out), strings.ReplaceAll(err.Error(), "\n", "\n  ")))
	}
	if err := errors.Join(out.Minted.NomadCheck, out.Minted.ConsulCheck); err != nil {
		// The token may be fine, but it goes to the address that did not
		// answer: as good as not issued until that is fixed.
		return cmdroot.With(exitPartial, fmt.Errorf("logged in, but %s; check NOMAD_ADDR / CONSUL_HTTP_ADDR (or the config file), then run alilogin status",
			strings.ReplaceAll(err.Error(), "\n", "; ")))
	}
	return nil
}

// signInCommands are what the sign-in's texts tell the user to run.
var signInCommands = session.SignInCommands{Again: "alilogin login", Device: "alilogin login --device"}

// signInError is a sign-in's error with what to do next: a sign-in that
// ended (session.SignInEnded) or was denied may be run again; an SSO
// without the device flow is signed in to through SSH port forwarding.
func signInError(err error) error {
	switch {
	case session.SignInDenied(err):
		return fmt.Errorf("%w; run alilogin login again to retry", err)
	case session.SignInEnded(err):
		return fmt.Errorf("%w; run alilogin login again", err)
	case session.NoDeviceFlow(err):
		return fmt.Errorf("%w; sign in with the browser of your own machine through SSH port forwarding instead: "+
			"connect with ssh -L 8250:127.0.0.1:8250 HOST, run alilogin login --no-browser --listen 127.0.0.1:8250 there, and open the URL it prints on your machine", err)
	}
	return err
}
