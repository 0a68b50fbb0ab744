package session

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/alisw/alilogin/internal/config"
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
		return usage(errors.New("--all and --profile cannot be used together"))
	}
	return nil
}

// Session is a profile's stored login with what is needed to renew it.
type Session struct {
	Env     Env
	Config  *config.Config // environment + config file; no network
	Store   store.Store
	Profile string
	// minTTLSaid: the lowered --min-ttl was said (ensure.go, minTTLFor).
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
		return nil, ErrNotLoggedIn
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
		return usage(fmt.Errorf("invalid profile name %q", p))
	}
	return nil
}

// severalError: several logins stored and none chosen.
func severalError(names []string, allowAll bool) error {
	hint := ""
	if allowAll {
		hint = ", or use --all"
	}
	return usage(fmt.Errorf("logged in to several profiles (%s); choose one with --profile, or make one current: alilogin use PROFILE%s", strings.Join(names, ", "), hint))
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
		return nil, usage(err)
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
