package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/atomicfile"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/envcontract"
	"github.com/alisw/alilogin/internal/store"
)

// The session door, what every command that uses a stored login goes
// through, read top to bottom: the outside world the use case may touch
// (Env), the profile chosen (Profiles: --profile, ALILOGIN_PROFILE, the
// current profile that `alilogin use` sets, default_profile) and the
// store opened (Open, no network), what env, exec and the hook hand a
// program (Handout, RefuseNesting), and the profile's lock for a command
// that writes the login (LockForWrite: login, logout). The tokens are
// brought to validity by Session.Ensure, the renewal chain's entrance
// (chain.go).

// UsageError: the flags, arguments or choices given cannot work;
// nothing was done (cmd/alilogin: exit code 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usage(err error) error { return &UsageError{err} }

// ErrNotLoggedIn: no login is stored for any profile the command could
// use (cmd/alilogin: exit code 4, with the hint to log in).
var ErrNotLoggedIn = errors.New("not logged in")

// Env is what the use case may touch of the outside world.
type Env struct {
	Getenv func(string) string
	Stderr io.Writer // notices and warnings
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// LockWait is how long logout and login wait for the profile's lock;
	// zero means WriterLockWait.
	LockWait time.Duration
}

func (e Env) getenv(k string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(k)
}

func (e Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e Env) stderr() io.Writer {
	if e.Stderr == nil {
		return io.Discard
	}
	return e.Stderr
}

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
	// minTTLSaid: the lowered --min-ttl was said (minTTLFor).
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
// profile (Current, below) or the configured default, else every stored
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

// NotChosenError: several logins stored and none chosen (a usage
// error). AllowAll: the command takes --all (logout).
type NotChosenError struct {
	Stored   []string
	AllowAll bool
}

func (e *NotChosenError) Error() string {
	return fmt.Sprintf("logged in to several profiles (%s)", strings.Join(e.Stored, ", "))
}

// severalError: several logins stored and none chosen.
func severalError(names []string, allowAll bool) error {
	return usage(&NotChosenError{Stored: names, AllowAll: allowAll})
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

// The current profile is what `alilogin use P` sets, as `kubectl config
// use-context` and `gh auth switch` do: the profile of every command
// that is given neither --profile nor ALILOGIN_PROFILE, ahead of
// default_profile. It is one line, the profile's name, in a small file
// of the state directory (per user and machine, like the logins it
// chooses among; not in the config file, which may be shared between
// machines), written atomically, 0600. It is no secret. A login sets it
// only when none is set, so an interactive login to another profile
// never changes what a script without --profile uses; a logout of that
// profile removes it.

// CurrentPath is the current-profile file.
func CurrentPath(getenv func(string) string) (string, error) {
	dir, err := store.StateDir(getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "current-profile"), nil
}

// Current is the current profile; "" when none is set. A file that does
// not hold a profile name is an error that says how to fix it.
func Current(e Env) (string, error) {
	path, err := CurrentPath(e.getenv)
	if err != nil {
		return "", err
	}
	b, err := atomicfile.ReadSmall(path, maxCurrentFile)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if errors.Is(err, atomicfile.ErrNotRegular) {
		return "", usage(&CurrentFileError{Path: path, NotRegular: true})
	}
	if err != nil {
		return "", fmt.Errorf("could not read the current profile: %w", err)
	}
	p := strings.TrimSpace(string(b))
	if !config.ValidProfileName(p) {
		return "", usage(&CurrentFileError{Path: path})
	}
	return p, nil
}

// CurrentFileError: the current-profile file is not a regular file
// (NotRegular), or does not name a profile (a usage error).
type CurrentFileError struct {
	Path       string
	NotRegular bool
}

func (e *CurrentFileError) Error() string {
	if e.NotRegular {
		return e.Path + " is not a regular file"
	}
	return e.Path + " does not name a profile"
}

// maxCurrentFile bounds what is read of the current-profile file: a
// profile name and its newline, and one byte to see that there is more.
const maxCurrentFile = 129

// SetCurrent makes p the current profile.
func SetCurrent(e Env, p string) error {
	if err := checkName(p); err != nil {
		return err
	}
	path, err := CurrentPath(e.getenv)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, []byte(p+"\n")); err != nil {
		return fmt.Errorf("could not set the current profile: %w", err)
	}
	return nil
}

// ClearCurrent removes the current profile when it is p, or whatever it
// is when p is "". cleared: there was one to remove.
func ClearCurrent(e Env, p string) (cleared bool, err error) {
	if p != "" {
		cur, err := Current(e)
		if err != nil || cur != p {
			return false, nil // another profile's (or a broken file): not p's to remove
		}
	}
	path, err := CurrentPath(e.getenv)
	if err != nil {
		return false, err
	}
	switch err := os.Remove(path); {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("could not clear the current profile: %w", err)
	}
	return true, nil
}

// chosen is the profile of a command given no --profile: ALILOGIN_PROFILE,
// else the current profile, else default_profile; "" when none.
func chosen(e Env, cfg *config.Config) (string, error) {
	if p := e.getenv("ALILOGIN_PROFILE"); p != "" {
		return p, nil
	}
	p, err := Current(e)
	if p != "" || err != nil {
		return p, err
	}
	// ALILOGIN_PROFILE is empty: the configuration's default is the
	// config file's.
	return cfg.DefaultProfile, nil
}

// KnownProfileNames are the profiles a shell completes: the stored
// logins' and, unless storedOnly, the configured ones (config file, the
// broker's cached discovery document), sorted. No network call; what
// cannot be read is left out.
func KnownProfileNames(e Env, storedOnly bool) []string {
	cfg, st, err := Local(e, Options{})
	if err != nil {
		return nil
	}
	names, _ := st.List()
	if !storedOnly {
		for _, p := range cfg.Profiles {
			names = append(names, p.Name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// Handout brings the tokens of o.Kinds (every kind the record holds when
// empty) to validity (Ensure, with the certificate's files in force), the
// Vault token too when vault is set (exec --secret reads with it: one
// pass of the chain for both), and returns what env, exec and the hook
// hand a program for o.Kinds (envcontract.FromRecord with the session's
// configuration), and the record.
func (s *Session) Handout(ctx context.Context, o EnsureOptions, vault bool) (envcontract.Handout, *store.Record, error) {
	kinds := o.Kinds
	if vault && len(kinds) > 0 && !slices.Contains(kinds, store.Vault) {
		o.Kinds = append(slices.Clip(kinds), store.Vault)
	}
	o.CertFiles = true
	rec, got, err := s.Ensure(ctx, o)
	if err != nil {
		return envcontract.Handout{}, nil, err
	}
	if len(kinds) == 0 {
		kinds = got
	}
	return envcontract.FromRecord(s.Config, rec, kinds), rec, nil
}

// RefuseNesting is exec's refusal to run inside another `alilogin exec`
// (envcontract.ExecMarker is set, to its profile); nil outside one.
func RefuseNesting(getenv func(string) string) error {
	if p := getenv(envcontract.ExecMarker); p != "" {
		return fmt.Errorf("already inside 'alilogin exec' for profile %s (%s is set); nesting is refused: run the command directly, or unset %s first", p, envcontract.ExecMarker, envcontract.ExecMarker)
	}
	return nil
}

// WriterLockWait is how long logout and login wait for the profile's
// lock before they give up (and change nothing): longer than a renewal
// can hold it, since each of its few server calls is bounded by a 30 s
// timeout.
const WriterLockWait = 5 * time.Minute

// ErrInterrupted: Ctrl-C (or SIGTERM) while waiting for the lock.
var ErrInterrupted = errors.New("interrupted")

// LockForWrite takes the profile's lock for a command that deletes or
// replaces its record, saying so on stderr when it has to wait. It fails
// when the wait times out or ctx ends (Ctrl-C: ErrInterrupted): such a
// command never writes without the lock, since a renewal that holds it
// could otherwise store its record back after the write, or leave what
// it minted alive.
func LockForWrite(ctx context.Context, e Env, profile string) (*store.Lock, error) {
	dir, err := store.LockDir(e.getenv)
	if err != nil {
		return nil, fmt.Errorf("could not lock profile %s: %w", profile, err)
	}
	// From here a Ctrl-C cancels ctx (main's signalContext takes the
	// signals on first use) instead of ending the process mid-wait.
	_ = ctx.Done()
	wait := e.LockWait
	if wait <= 0 {
		wait = WriterLockWait
	}
	l, err := store.AcquireLockOrWait(ctx, dir, profile, wait, func() {
		fmt.Fprintf(e.stderr(), "alilogin: waiting for another alilogin to finish renewing profile %s (Ctrl-C to give up)\n", profile)
	})
	switch {
	case err == nil:
		return l, nil
	case ctx.Err() != nil:
		return nil, ErrInterrupted
	case errors.Is(err, store.ErrLockTimeout):
		path, _ := store.LockPath(dir, profile)
		return nil, fmt.Errorf("another alilogin has held the lock of profile %s (%s) for %s; try again once it has finished (the lock ends with the process that holds it: fuser %s names it)", profile, path, wait, path)
	}
	return nil, err
}
