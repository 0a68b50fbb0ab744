package session

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/config/check"
	"github.com/alisw/alilogin/internal/envcontract"
	"github.com/alisw/alilogin/internal/exitcode"
	"github.com/alisw/alilogin/internal/renew"
	"github.com/alisw/alilogin/internal/store"
)

// Options are the choices every session command has.
type Options struct {
	Profile string // --profile; "" = ALILOGIN_PROFILE, the current profile, the configured default, or the only stored one
	Store   string // --store; "" = ALILOGIN_STORE or the configured one
	All     bool   // --all (logout, status): every stored profile
}

// Check refuses --all with --profile.
func (o Options) Check() error {
	if o.All && o.Profile != "" {
		return exitcode.With(ExitUsage, errors.New("--all and --profile cannot be used together"))
	}
	return nil
}

// Session is a profile's stored login with what is needed to renew it.
type Session struct {
	Env     Env
	Config  *config.Config // environment + config file; no network
	Store   store.Store
	Profile string
	// minTTLSaid: the lowered --min-ttl was said (minttl.go).
	minTTLSaid bool
}

// Open loads the local configuration, opens the store and picks the one
// profile o names (Profiles): the only stored one when it names none. It
// makes no network call.
func Open(e Env, o Options) (*Session, error) {
	cfg, st, err := Local(e, o)
	if err != nil {
		return nil, err
	}
	names, err := Profiles(e, cfg, st, o)
	if err != nil {
		return nil, err
	}
	switch len(names) {
	case 0:
		return nil, exitcode.With(ExitLoginNeeded, errors.New("not logged in; run: alilogin login"))
	case 1:
	default:
		return nil, severalError(names, false)
	}
	if err := checkName(names[0]); err != nil {
		return nil, err
	}
	return &Session{Env: e, Config: cfg, Store: st, Profile: names[0]}, nil
}

// Profiles are the profiles o names, in the one order of choice of every
// command: --profile, else (without --all) ALILOGIN_PROFILE, the current
// profile (current.go) or the configured default, else every stored
// profile (none when nothing is stored). Only the last lists the store:
// with a profile chosen, this reads at most the current-profile file. A
// named profile's name is not checked here (checkName).
func Profiles(e Env, cfg *config.Config, st store.Store, o Options) ([]string, error) {
	p := o.Profile
	if p == "" && !o.All {
		var err error
		if p, err = chosen(e, cfg); err != nil {
			return nil, err
		}
	}
	if p != "" {
		return []string{p}, nil
	}
	names, err := st.List()
	if err != nil {
		return nil, fmt.Errorf("could not list stored logins: %w", err)
	}
	return names, nil
}

func checkName(p string) error {
	if !config.ValidProfileName(p) {
		return exitcode.With(ExitUsage, fmt.Errorf("invalid profile name %q", p))
	}
	return nil
}

// severalError: several logins stored and none chosen.
func severalError(names []string, allowAll bool) error {
	hint := ""
	if allowAll {
		hint = ", or use --all"
	}
	return exitcode.With(ExitUsage, fmt.Errorf("logged in to several profiles (%s); choose one with --profile, or make one current: alilogin use PROFILE%s", strings.Join(names, ", "), hint))
}

// Local reads the configuration from the environment and the config
// file (no discovery, no network) and opens the store.
func Local(e Env, o Options) (*config.Config, store.Store, error) {
	cfg, err := config.Resolve(config.Sources{Getenv: e.getenv, Discover: cachedDiscovery(e)})
	if err != nil {
		return nil, nil, err
	}
	st, err := openStore(e, o, cfg)
	if err != nil {
		return nil, nil, err
	}
	return cfg, st, nil
}

// openStore opens the store --store names, else the configured one.
func openStore(e Env, o Options, cfg *config.Config) (store.Store, error) {
	kind := o.Store
	if kind == "" {
		kind = cfg.Store
	}
	st, err := store.Open(kind, e.getenv, e.stderr())
	if err != nil {
		return nil, exitcode.With(ExitUsage, err)
	}
	return st, nil
}

// cachedDiscovery is a config.Sources.Discover that reads the broker's
// discovery document from the copy `alilogin login` and `setup` keep, and
// never the network: a missing copy is an empty layer.
func cachedDiscovery(e Env) func(string) (config.Config, error) {
	return func(broker string) (config.Config, error) {
		dir, err := config.Dir(e.getenv)
		if err != nil {
			return config.Config{}, nil
		}
		d, err := config.ReadDiscoveryCache(dir, broker)
		if err != nil {
			return config.Config{}, nil
		}
		return config.FromDiscovery(d), nil
	}
}

// fullConfig is the configuration with the broker's discovery document
// fetched when the cached copy is missing: for the steps that talk to
// servers anyway.
func (s *Session) fullConfig(ctx context.Context) (*config.Config, error) {
	if s.Config.Vault.Addr != "" || s.Config.Broker == "" {
		return s.Config, nil
	}
	dir, err := config.Dir(s.Env.getenv)
	if err != nil {
		return nil, err
	}
	return config.Resolve(config.Sources{Getenv: s.Env.getenv, Discover: config.Discoverer(ctx, nil, dir)})
}

// LoginNeeded is the one-line hint and exit code for a profile that
// needs a new interactive login.
func LoginNeeded(profile string) error {
	return exitcode.With(ExitLoginNeeded, fmt.Errorf("not logged in for profile %s; run: alilogin login --profile %s", profile, profile))
}

// Error turns the errors of the store and the chain into what the user
// should do next.
func Error(profile string, err error) error {
	var ce *store.CorruptError
	switch {
	case err == nil:
		return nil
	case Mismatch(err):
		return exitcode.With(ExitMismatch, fmt.Errorf("%w; %s", err, mismatchFix(err, profile)))
	case errors.As(err, new(*renew.BindingError)), errors.As(err, new(*renew.IdentityChangedError)), errors.As(err, new(*renew.ServerBindingError)):
		return exitcode.With(ExitLoginNeeded, fmt.Errorf("%w; run: alilogin login --profile %s", err, profile))
	case errors.Is(err, renew.ErrLoginNeeded):
		return LoginNeeded(profile)
	case errors.As(err, &ce):
		return fmt.Errorf("%w (or remove it with: alilogin logout --profile %s)", err, profile)
	}
	return err
}

// Mismatch reports whether err is a stored login made with another
// Vault, Nomad, Consul or SSO issuer (or OIDC client id) than the
// configured one: a login that is fine where it was made, which a new
// login would replace and revoke. A login that names none (an earlier
// alilogin's) is not a mismatch but a login needed.
func Mismatch(err error) bool {
	var sb *renew.ServerBindingError
	if errors.As(err, &sb) {
		return !sb.Unrecorded
	}
	var b *renew.BindingError
	return errors.As(err, &b) && b.Issuer != "" && b.ClientID != ""
}

// mismatchFix says how to use the login, or another one, after a
// Mismatch: unset (or correct) what names the other server, or log in
// for it, knowing that this replaces the login.
func mismatchFix(err error, profile string) string {
	env := "ALILOGIN_ISSUER or ALILOGIN_CLIENT_ID"
	var sb *renew.ServerBindingError
	if errors.As(err, &sb) {
		x := envcontract.For(sb.Server)
		env = x.Addr
		if sb.Trust {
			env = x.CACert + ", " + x.TLSServerName + " or SSL_CERT_FILE"
		}
	}
	return fmt.Sprintf("to use this login, unset %s (or correct the configuration that names the other one); to use the other one instead: alilogin login --profile %s, which replaces this login and revokes its tokens", env, profile)
}

// ConfiguredServers are the canonical addresses of the configured Vault,
// Nomad and Consul (empty where none is configured), as a login records
// them.
//
// With each, how its certificate is checked (apiclient.Trust of its CA
// file and TLS server name, and of this process's SSL_CERT_FILE and
// SSL_CERT_DIR, which Go's crypto/x509 reads for the system's roots).
func ConfiguredServers(cfg *config.Config) (renew.Servers, error) {
	var out renew.Servers
	for _, s := range []struct {
		kind       store.Kind
		srv        config.Server
		dst, trust *string
	}{{store.Vault, cfg.Vault, &out.Vault, &out.VaultTrust}, {store.Nomad, cfg.Nomad, &out.Nomad, &out.NomadTrust}, {store.Consul, cfg.Consul, &out.Consul, &out.ConsulTrust}} {
		if s.srv.Addr == "" {
			continue
		}
		c, err := check.Canonical(s.srv.Addr)
		if err != nil {
			return renew.Servers{}, fmt.Errorf("invalid %s address: %w", s.kind.Title(), err)
		}
		*s.dst = c
		// A CA file that cannot be read matches no recorded trust (login
		// needed for a login that has one; dialing fails anyway); a login
		// without one is accepted as before.
		t, err := apiclient.Trust(s.srv.TLS.CACert, s.srv.TLS.ServerName, os.Getenv, runtime.GOOS)
		if err != nil {
			t = "unreadable CA file"
		}
		*s.trust = t
	}
	return out, nil
}
