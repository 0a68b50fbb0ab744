package session

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/oidc"
	"github.com/alisw/alilogin/internal/store"
)

// LoginConfig is the configuration of a fresh login: the flags layer
// over the environment, the config file and the broker's discovery
// document, fetched when not cached. When the broker cannot be reached,
// login goes on without it (with a warning on stderr) if the rest is
// complete. profile and flags.Store are the flags, checked here.
func LoginConfig(ctx context.Context, e Env, flags config.Config, profile string) (*config.Config, error) {
	if profile != "" {
		if err := checkName(profile); err != nil {
			return nil, err
		}
	}
	if flags.Store != "" && flags.Store != store.KindKeyring && flags.Store != store.KindFile {
		return nil, usage(fmt.Errorf("invalid --store %q: want keyring or file", flags.Store))
	}
	cfgDir, err := config.Dir(e.getenv)
	if err != nil {
		return nil, err
	}
	discover := config.Discoverer(ctx, nil, cfgDir)
	var discoverErr error
	cfg, err := config.Resolve(config.Sources{
		Flags:  flags,
		Getenv: e.getenv,
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
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		if discoverErr != nil {
			return nil, fmt.Errorf("%w\n(%v)", err, discoverErr)
		}
		return nil, err
	}
	if discoverErr != nil {
		fmt.Fprintf(e.stderr(), "alilogin: warning: %v; going on with the local configuration\n", discoverErr)
	}
	return cfg, nil
}

// SignInCommands are what the user runs to sign in again, or with the
// device flow (oidc's).
type SignInCommands = oidc.SignInCommands

// SignInOptions are login's choices of sign-in.
type SignInOptions struct {
	Device    bool   // the device code flow
	NoBrowser bool   // print the URL only
	Listen    string // the loopback address of the callback (oidc.AuthCode binds it)
	Timeout   time.Duration
	Progress  bool
	Stderr    io.Writer
	// Commands: what the user runs to sign in again, or with the
	// device flow (the command line's words).
	Commands SignInCommands
}

// SignIn runs the SSO sign-in: the device flow or the authorization code
// flow with a loopback callback. When no browser can be shown here and
// none of the flags chose, it is the device flow where the SSO has it,
// else the URL only (to open on this machine some other way).
func SignIn(ctx context.Context, e Env, sso *oidc.Client, o SignInOptions) (*oidc.Result, error) {
	device, noBrowser := o.Device, o.NoBrowser
	if !device && !noBrowser && o.Listen == "" && !oidc.CanShowBrowser(e.getenv) {
		device, noBrowser = sso.SupportsDevice(), true
	}
	if device {
		return sso.Device(ctx, oidc.DeviceOptions{Stderr: o.Stderr, Timeout: o.Timeout, Progress: o.Progress})
	}
	var b oidc.Browser
	if !noBrowser {
		b = oidc.SystemBrowser{Output: o.Stderr}
	}
	return sso.AuthCode(ctx, oidc.AuthCodeOptions{Listen: o.Listen, Browser: b, Stderr: o.Stderr, Timeout: o.Timeout, Progress: o.Progress,
		Commands: o.Commands})
}

// CanShowBrowser says whether this session can open a browser (a display,
// or macOS/Windows), as the login decides it; `alilogin ui` asks too.
func CanShowBrowser(getenv func(string) string) bool { return oidc.CanShowBrowser(getenv) }

// OpenBrowser opens url in the user's browser, as the login does, with
// what the browser prints going to out.
func OpenBrowser(out io.Writer, url string) error {
	return oidc.SystemBrowser{Output: out}.Open(url)
}
