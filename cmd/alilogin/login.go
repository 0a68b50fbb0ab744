package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/exitcode"
	"github.com/alisw/alilogin/internal/issue"
	"github.com/alisw/alilogin/internal/oidc"
	"github.com/alisw/alilogin/internal/renew"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
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
prints it to stdout, without secrets.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runLogin(c.Context(), e, o)
		},
	}
	f := c.Flags()
	f.StringVarP(&o.Profile, "profile", "p", "", "profile to log in to (default: the configured default, else the only one your roles allow)")
	f.BoolVar(&o.Device, "device", false, "use the device code flow (sign in on another device)")
	f.BoolVar(&o.NoBrowser, "no-browser", false, "do not open a browser; only print the URL")
	f.StringVar(&o.Listen, "listen", "", "loopback address for the SSO callback, 127.0.0.1:PORT or [::1]:PORT; the redirect URI names it (default: the first free of 127.0.0.1:8250, :18250, :28250)")
	f.StringVar(&o.Store, "store", "", "where to keep the tokens: keyring or file (default: $ALILOGIN_STORE, else the keyring with a file fallback)")
	f.BoolVar(&o.JSON, "json", false, "print the summary as JSON on stdout (no secrets)")
	f.DurationVar(&o.Timeout, "timeout", oidc.DefaultTimeout, "how long to wait for the sign-in")
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
	if o.Profile != "" && !config.ValidProfileName(o.Profile) {
		return exitcode.With(exitUsage, fmt.Errorf("invalid profile name %q", o.Profile))
	}
	if o.Store != "" && o.Store != store.KindKeyring && o.Store != store.KindFile {
		return exitcode.With(exitUsage, fmt.Errorf("invalid --store %q: want keyring or file", o.Store))
	}
	cfgDir, err := config.Dir(e.Getenv)
	if err != nil {
		return err
	}
	// The broker's discovery document is the lowest layer: when the broker
	// cannot be reached (and nothing is cached), go on without it if the
	// rest of the configuration is complete.
	discover := config.Discoverer(ctx, nil, cfgDir)
	var discoverErr error
	cfg, err := config.Resolve(config.Sources{
		Flags:  config.Config{Issuer: o.Issuer, ClientID: o.ClientID, Vault: config.Server{Addr: o.VaultAddr}, Store: o.Store},
		Getenv: e.Getenv,
		Discover: func(broker string) (config.Config, error) {
			c, err := discover(broker)
			if err != nil {
				discoverErr = fmt.Errorf("could not read the discovery document of the broker at %s: %w", broker, err)
				return config.Config{}, nil
			}
			return c, nil
		},
	})
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		if discoverErr != nil {
			return fmt.Errorf("%w\n(%v)", err, discoverErr)
		}
		return err
	}
	if discoverErr != nil {
		fmt.Fprintf(e.Stderr, "alilogin: warning: %v; going on with the local configuration\n", discoverErr)
	}
	servers, err := configuredServers(cfg)
	if err != nil {
		return err
	}
	st, err := store.Open(cfg.Store, e.Getenv, e.Stderr)
	if err != nil {
		return err
	}
	vault, err := apiclient.New("Vault", cfg.Vault.Addr, "X-Vault-Token", cfg.Vault.TLS, 30*time.Second)
	if err != nil {
		return err
	}
	nomad, consul, err := serverClients(cfg)
	if err != nil {
		return err
	}
	tm := &stepTimer{w: e.Stderr, on: o.Verbose, last: time.Now()}

	// 1. SSO discovery and, meanwhile, a check that Vault answers, so
	// that nobody signs in for nothing.
	preflight := make(chan error, 1)
	go func() { preflight <- checkVault(ctx, vault) }()
	sso, err := oidc.New(ctx, oidc.Config{Issuer: cfg.Issuer, ClientID: cfg.ClientID, Scopes: cfg.Scopes,
		RolesClaim: cfg.RolesClaim, UserClaim: cfg.UserClaim, InsecureHTTP: cfg.InsecureHTTP, Now: e.now})
	if err != nil {
		return err
	}
	if err := <-preflight; err != nil {
		return err
	}
	tm.mark("SSO discovery + Vault check")
	var res *oidc.Result
	device, noBrowser := o.Device, o.NoBrowser
	if !device && !noBrowser && o.Listen == "" && !oidc.CanShowBrowser(e.Getenv) {
		// No browser can be shown here: the device flow where the SSO
		// has it, else the URL only (to open on this machine some other way).
		device, noBrowser = sso.SupportsDevice(), true
	}
	progress := !o.Verbose
	if device {
		res, err = sso.Device(ctx, oidc.DeviceOptions{Stderr: e.Stderr, Timeout: o.Timeout, Progress: progress})
	} else {
		var b oidc.Browser
		if !noBrowser {
			b = oidc.SystemBrowser{Output: e.Stderr}
		}
		res, err = sso.AuthCode(ctx, oidc.AuthCodeOptions{Listen: o.Listen, Browser: b, Stderr: e.Stderr, Timeout: o.Timeout, Progress: progress})
	}
	if err != nil {
		return err
	}
	tm.mark("SSO sign-in (includes the user)")
	if o.Verbose && res.Exchange > 0 {
		fmt.Fprintf(e.Stderr, "  [of which code exchange + ID token verification: %s]\n", res.Exchange.Round(time.Millisecond))
	}
	id := res.Identity

	// 2. Profile.
	profile, err := chooseProfile(cfg, o.Profile, id.Roles)
	if err != nil {
		return err
	}
	prof, _ := cfg.Profile(profile)

	// 3. Vault.
	vtok, err := issue.Login(ctx, vault, issue.LoginRequest{Mount: cfg.Vault.Mount, Role: profile, IDToken: res.IDToken,
		UserRoles: termtext.CleanAll(id.Roles), RequiredRoles: prof.Roles}, e.now())
	if err != nil {
		return err
	}
	tm.mark("Vault login")

	// 3b. Client certificate (clientcert.go), before the Nomad and Consul
	// tokens: their check at servers that want mTLS presents it.
	cert, certCfg, certErr := loginCert(ctx, e, cfg, vault, vtok.Secret, profile, id.User)
	if cert != nil {
		if nomad, consul, err = serverClients(certCfg); err != nil {
			return err
		}
		tm.mark("client certificate")
	}

	// 4. Nomad and Consul, in parallel.
	req := issue.MintRequest{Role: profile}
	if nomad != nil && !prof.NoNomad {
		req.Nomad = &issue.Target{Mount: cfg.Nomad.Mount, Server: nomad}
	}
	if consul != nil && !prof.NoConsul {
		req.Consul = &issue.Target{Mount: cfg.Consul.Mount, Server: consul}
	}
	minted := issue.Mint(ctx, vault.WithToken(vtok.Secret), req, e.now())
	// Vault revokes them with the Vault token, whatever their lease says.
	minted.Nomad, minted.Consul = minted.Nomad.CappedBy(vtok), minted.Consul.CappedBy(vtok)
	tm.mark("Nomad+Consul tokens")

	// 5. Store, replacing (and revoking) the previous login.
	rec := &store.Record{
		Version: store.RecordVersion, Profile: profile,
		User: id.User, Roles: id.Roles, Issuer: id.Issuer, ClientID: cfg.ClientID, Subject: id.Subject,
		VaultAddr: servers.Vault, NomadAddr: servers.Nomad, ConsulAddr: servers.Consul,
		RefreshToken: res.RefreshToken, IDTokenExp: id.Expiry,
		Vault: vtok, Nomad: minted.Nomad, Consul: minted.Consul, UpdatedAt: e.now(),
		ClientCert: cert,
	}
	// The per-profile lock keeps a concurrent `alilogin token` renewal
	// from writing over the new login with the old one. Without it
	// (timeout, Ctrl-C) nothing is stored and what was obtained is revoked.
	l, lerr := lockForWrite(ctx, e, profile)
	if lerr != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		_ = revokeCert(rctx, e, cfg, rec, false) // clientcert.go
		rerr := issue.Revoke(rctx, vault.WithToken(vtok.Secret))
		if !res.RefreshToken.Empty() {
			_ = sso.Revoke(rctx, res.RefreshToken) // best effort: the SSO session ends on its own
		}
		cancel()
		if errors.Is(lerr, errInterrupted) {
			lerr = fmt.Errorf("interrupted while waiting for the lock of profile %s", profile)
		}
		if rerr != nil {
			return fmt.Errorf("%w; the new login was not stored (nor its tokens revoked, which expire in %s: %v); the previous login, if any, is kept", lerr, ttl(vtok.ExpiresAt, e.now()), rerr)
		}
		return fmt.Errorf("%w; the new login was not stored and its tokens were revoked; the previous login, if any, is kept", lerr)
	}
	defer l.Release()
	old, _ := st.Get(profile)
	if err := st.Put(rec); err != nil {
		// Nothing kept: do not leave the new tokens alive either. Revoking
		// the Vault token revokes the Nomad and Consul leases minted with it.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		_ = revokeCert(rctx, e, cfg, rec, false) // clientcert.go
		rerr := issue.Revoke(rctx, vault.WithToken(vtok.Secret))
		cancel()
		if rerr != nil {
			return fmt.Errorf("could not store the login: %w\n(nor revoke the new tokens, which expire in %s: %v)", err, ttl(vtok.ExpiresAt, e.now()), rerr)
		}
		return fmt.Errorf("could not store the login: %w", err)
	}
	tm.mark("store")
	if old != nil && old.ClientCert != nil && old.Vault.ValidFor(e.now(), 0) {
		for _, w := range revokeCert(ctx, e, cfg, old, false) { // clientcert.go: the files are the new login's
			fmt.Fprintf(e.Stderr, "alilogin: warning: the previous login's %s\n", w)
		}
	}
	if old != nil && old.Vault.ValidFor(e.now(), 0) && !old.Vault.Secret.Equal(vtok.Secret) {
		// Revoking the old Vault token revokes its Nomad/Consul leases;
		// it is revoked at the Vault that issued it, which need not be
		// the one this login was made with.
		if ov, err := recordVault(cfg, old); err != nil {
			fmt.Fprintf(e.Stderr, "alilogin: warning: the previous login's Vault token (accessor %s) was not revoked: %v; it expires at %s\n",
				termtext.Clean(old.Vault.Accessor), err, old.Vault.ExpiresAt.Local().Format(time.RFC3339))
		} else {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_ = issue.Revoke(rctx, ov.WithToken(old.Vault.Secret))
			cancel()
		}
	}

	// 6. Summary.
	sum := newLoginSummary(rec, id, minted)
	sum.Skipped = skippedTokens(cfg, prof.NoNomad, prof.NoConsul)
	sum.write(e.Stderr, e.now())
	statusCert(rec, e.now()).write(e.Stderr, e.now()) // clientcert.go
	if o.JSON {
		if err := writeJSON(e.Stdout, sum); err != nil {
			return err
		}
	}
	if certErr != nil {
		return exitcode.With(exitPartial, fmt.Errorf("logged in, but without a client certificate: %w", certErr))
	}
	if err := minted.Err(); err != nil {
		return exitcode.With(exitPartial, fmt.Errorf("logged in to Vault, but not everything was issued (the rest is kept):\n  %s",
			strings.ReplaceAll(err.Error(), "\n", "\n  ")))
	}
	return nil
}

// checkVault fails when Vault cannot be reached at all; any HTTP answer
// will do.
func checkVault(ctx context.Context, vault *apiclient.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	err := vault.WithToken(secret.String{}).Do(ctx, "GET", "/v1/sys/health?standbyok=true&perfstandbyok=true", nil, nil)
	if err == nil || !apiclient.Unreachable(err) {
		return nil
	}
	cause := err
	var ae *apiclient.Error
	if errors.As(err, &ae) && ae.Err != nil {
		cause = ae.Err
	}
	msg := cause.Error()
	for _, s := range []string{"certificate required", "bad certificate", "handshake failure", "unknown certificate"} {
		if strings.Contains(msg, s) {
			return fmt.Errorf("Vault at %s requires a client certificate that it accepts: set VAULT_CLIENT_CERT and VAULT_CLIENT_KEY (%v)", vault.Addr, cause)
		}
	}
	if strings.Contains(msg, "certificate signed by unknown authority") || strings.Contains(msg, "x509:") {
		return fmt.Errorf("could not verify the certificate of Vault at %s: set VAULT_CACERT to its CA (%v)", vault.Addr, cause)
	}
	return err
}

// serverClients returns clients of Nomad and Consul, nil when the address
// is not configured.
func serverClients(cfg *config.Config) (nomad, consul *apiclient.Client, err error) {
	if cfg.Nomad.Addr != "" {
		if nomad, err = apiclient.New("Nomad", cfg.Nomad.Addr, "X-Nomad-Token", cfg.Nomad.TLS, 30*time.Second); err != nil {
			return nil, nil, err
		}
	}
	if cfg.Consul.Addr != "" {
		if consul, err = apiclient.New("Consul", cfg.Consul.Addr, "X-Consul-Token", cfg.Consul.TLS, 30*time.Second); err != nil {
			return nil, nil, err
		}
	}
	return nomad, consul, nil
}

// chooseProfile picks the profile: the flag, else the configured default,
// else the only configured profile the user's roles allow.
func chooseProfile(cfg *config.Config, flag string, roles []string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if cfg.DefaultProfile != "" {
		return cfg.DefaultProfile, nil
	}
	var allowed, all []string
	for _, p := range cfg.Profiles {
		all = append(all, p.Name)
		if slices.ContainsFunc(p.Roles, func(r string) bool { return slices.Contains(roles, r) }) {
			allowed = append(allowed, p.Name)
		}
	}
	yours := "none"
	if len(roles) > 0 {
		yours = strings.Join(termtext.CleanAll(roles), ", ")
	}
	switch {
	case len(allowed) == 1:
		return allowed[0], nil
	case len(allowed) > 1:
		return "", exitcode.With(exitUsage, fmt.Errorf("your roles allow several profiles: %s; choose one with --profile (or set default_profile in the config file)", strings.Join(allowed, ", ")))
	case len(all) == 0:
		return "", exitcode.With(exitUsage, errors.New("no profile given and none configured; use --profile NAME"))
	default:
		return "", fmt.Errorf("none of the configured profiles (%s) is allowed for your SSO roles (%s); ask for a role in the CERN Application Portal, or use --profile", strings.Join(all, ", "), yours)
	}
}

// loginSummary is what login reports; it holds no secret.
type loginSummary struct {
	User    string                   `json:"user"`
	Name    string                   `json:"name,omitempty"`
	Email   string                   `json:"email,omitempty"`
	Roles   []string                 `json:"roles"`
	Profile string                   `json:"profile"`
	Issuer  string                   `json:"issuer"`
	Tokens  map[string]*tokenSummary `json:"tokens"`
	Errors  map[string]string        `json:"errors,omitempty"`
	// Skipped: tokens not minted because no address of their server is
	// configured (a token with none would go to the CLI's default).
	Skipped map[string]string `json:"skipped,omitempty"`
}

type tokenSummary struct {
	Accessor  string    `json:"accessor,omitempty"`
	LeaseID   string    `json:"lease_id,omitempty"`
	Policies  []string  `json:"policies"`
	Renewable bool      `json:"renewable"`
	ExpiresAt time.Time `json:"expires_at"`
}

func summarise(t *store.Token) *tokenSummary {
	if t == nil {
		return nil
	}
	p := t.Policies
	if p == nil {
		p = []string{}
	}
	return &tokenSummary{Accessor: t.Accessor, LeaseID: t.LeaseID, Policies: p, Renewable: t.Renewable, ExpiresAt: t.ExpiresAt.UTC()}
}

// skippedTokens says which of the Nomad and Consul tokens the profile
// grants login did not mint because no address of their server is
// configured, and why; nil when none.
func skippedTokens(cfg *config.Config, noNomad, noConsul bool) map[string]string {
	var out map[string]string
	for _, k := range []struct {
		name, server, addr string
		none               bool
	}{{"nomad", "Nomad", cfg.Nomad.Addr, noNomad}, {"consul", "Consul", cfg.Consul.Addr, noConsul}} {
		if k.addr == "" && !k.none {
			if out == nil {
				out = map[string]string{}
			}
			out[k.name] = (&renew.NotConfiguredError{Server: k.server}).Error()
		}
	}
	return out
}

func newLoginSummary(r *store.Record, id *oidc.Identity, m *issue.Minted) *loginSummary {
	s := &loginSummary{User: r.User, Name: id.Name, Email: id.Email, Roles: r.Roles, Profile: r.Profile, Issuer: r.Issuer,
		Tokens: map[string]*tokenSummary{"vault": summarise(r.Vault)}}
	if s.Roles == nil {
		s.Roles = []string{}
	}
	add := func(name string, t *store.Token, err error) {
		if t != nil {
			s.Tokens[name] = summarise(t)
		}
		if err != nil {
			if s.Errors == nil {
				s.Errors = map[string]string{}
			}
			s.Errors[name] = err.Error()
		}
	}
	add("nomad", m.Nomad, m.NomadErr)
	add("consul", m.Consul, m.ConsulErr)
	return s
}

// write prints the summary for a person. The user, name, roles and
// policies are the SSO's and Vault's text: cleaned for the terminal.
func (s *loginSummary) write(w io.Writer, now time.Time) {
	who := termtext.Clean(s.User)
	if s.Name != "" {
		who += " (" + termtext.Clean(s.Name) + ")"
	}
	roles := "none"
	if len(s.Roles) > 0 {
		roles = strings.Join(termtext.CleanAll(s.Roles), ", ")
	}
	fmt.Fprintf(w, "Logged in as %s\n  roles:   %s\n  profile: %s\n", who, roles, s.Profile)
	for _, name := range []string{"vault", "nomad", "consul"} {
		t := s.Tokens[name]
		switch {
		case t != nil:
			fmt.Fprintf(w, "  %-7s valid for %-9s policies: %s\n", name+":", ttl(t.ExpiresAt, now), strings.Join(termtext.CleanAll(t.Policies), ", "))
		case s.Errors[name] != "":
			fmt.Fprintf(w, "  %-7s FAILED\n", name+":")
		case s.Skipped[name] != "":
			fmt.Fprintf(w, "  %-7s none: %s\n", name+":", s.Skipped[name])
		}
	}
}

func ttl(exp, now time.Time) string {
	d := exp.Sub(now).Round(time.Second)
	if d > 50*365*24*time.Hour {
		return "ever"
	}
	if d < 0 {
		return "expired"
	}
	return d.String()
}
