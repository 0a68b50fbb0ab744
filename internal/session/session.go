package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/clientcert"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/envcontract"
	"github.com/alisw/alilogin/internal/renew"
	"github.com/alisw/alilogin/internal/store"
)

// The session door, what every command that uses a stored login goes
// through, read top to bottom: the outside world the use case may touch
// (Env), the profile chosen and the store opened (Open, no network), the
// tokens brought to validity through the renewal chain (Ensure; the
// chain's wiring and adapters: chain.go), what env, exec and the hook
// hand a program (Handout, RefuseNesting), the client certificate's
// files in force for them (useCert), and the profile's lock for a
// command that writes the login (LockForWrite: login, logout).

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

// EnsureOptions say which tokens Ensure brings to validity.
type EnsureOptions struct {
	Kinds   []store.Kind // empty: every kind the record holds
	MinTTL  time.Duration
	Verbose bool // say each step of the chain on stderr
	// CertFiles: the client certificate's files are brought up to date
	// and put in force in Session.Config even when nothing is renewed
	// (env, exec); after a renewal they always are (useCert).
	CertFiles bool
}

// Ensure returns the profile's record with the tokens of o.Kinds valid
// for longer than o.MinTTL, through the renewal chain (renew.Ensurer),
// whose step 4 is a fresh Vault login from a refresh grant. It reports
// the chain's steps (with Verbose) and warnings on stderr. The kinds are
// returned as resolved.
func (s *Session) Ensure(ctx context.Context, o EnsureOptions) (*store.Record, []store.Kind, error) {
	// Step 1 first, before any client is built: no network, little work.
	rec, err := s.Store.Get(s.Profile)
	if err != nil {
		// (Without kinds, a missing record is said as the store says
		// it, as env and exec always have.)
		if errors.Is(err, store.ErrNotFound) && len(o.Kinds) > 0 {
			return nil, nil, fmt.Errorf("%w: %w", renew.ErrLoginNeeded, err)
		}
		return nil, nil, err
	}
	kinds := o.Kinds
	if len(kinds) == 0 {
		kinds = rec.Kinds()
	}
	o.MinTTL = s.minTTLFor(rec, kinds, o.MinTTL)
	// The login must have been made with the configured servers, even
	// for a cached token: env and exec hand it out with the configured
	// addresses. When the Vault address comes from a discovery document
	// not cached yet, the Ensurer checks once it is known.
	checked := false // step 1 done here: the Ensurer skips its own
	if s.Config.Vault.Addr != "" {
		servers, err := ConfiguredServers(s.Config)
		if err != nil {
			return nil, nil, err
		}
		ch := &renew.Chain{Servers: servers, MinTTL: o.MinTTL, Now: s.Env.now, Cert: certSigner(s.Env, s.Config, nil)}
		if err := ch.Bound(rec, kinds); err != nil {
			return nil, nil, err
		}
		if ch.Fresh(rec, kinds) {
			if o.CertFiles {
				return rec, kinds, s.useCert(ctx, rec)
			}
			return rec, kinds, nil
		}
		checked = true
	}
	// The certificate's files in force for the chain's own calls to
	// Nomad and Consul (useCert).
	if err := s.useCert(ctx, rec); err != nil {
		return nil, nil, err
	}
	// A Vault token that has expired cannot be renewed: step 4 will
	// follow, if the login was made with the configured SSO.
	en, err := s.ensurer(ctx, o.MinTTL, !rec.Vault.ValidFor(s.Env.now(), 0) && rec.Issuer == s.Config.Issuer && rec.ClientID == s.Config.ClientID)
	if err != nil {
		return nil, nil, err
	}
	ensure := en.Ensure
	if checked {
		ensure = en.Renew
	}
	rec, res, err := ensure(ctx, s.Profile, kinds)
	if o.Verbose {
		for _, st := range res.Steps {
			fmt.Fprintf(s.Env.stderr(), "alilogin: %s: %s\n", s.Profile, st)
		}
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(s.Env.stderr(), "alilogin: warning: %s\n", w)
	}
	if err != nil {
		return nil, nil, err
	}
	return rec, kinds, s.useCert(ctx, rec) // the chain may have re-signed it
}

// capMinTTL lowers a --min-ttl that no token of the profile can meet: at
// or above the validity the servers grant its tokens (the TTL of the
// Vault token, which every other token dies with, and of each token of
// kinds), every call would renew, re-mint and finally log in again,
// revoking the tokens other shells hold. It is lowered to half the
// shortest such TTL, so that a token is renewed once half its life is
// gone. ttl is that TTL; capped says whether minTTL was lowered. A
// record that does not know its TTLs (written by an earlier alilogin,
// or holding only a refresh token) leaves minTTL as it is.
func capMinTTL(rec *store.Record, kinds []store.Kind, minTTL time.Duration) (capped bool, use, ttl time.Duration) {
	for _, k := range append([]store.Kind{store.Vault}, kinds...) {
		if t := rec.Token(k); t != nil && t.TTL > 0 && (ttl == 0 || t.TTL < ttl) {
			ttl = t.TTL
		}
	}
	if ttl == 0 || minTTL < ttl {
		return false, minTTL, ttl
	}
	return true, ttl / 2, ttl
}

// minTTLFor is capMinTTL that says, once per Session, on stderr when it
// lowers minTTL.
func (s *Session) minTTLFor(rec *store.Record, kinds []store.Kind, minTTL time.Duration) time.Duration {
	capped, use, ttl := capMinTTL(rec, kinds, minTTL)
	if capped && !s.minTTLSaid {
		s.minTTLSaid = true
		fmt.Fprintf(s.Env.stderr(), "alilogin: --min-ttl %s is not below the %s the tokens of profile %s are given; using %s\n",
			minTTL, ttl, s.Profile, use)
	}
	return use
}

// ParseKinds reads --for values (repeatable or comma-separated).
func ParseKinds(vals []string) ([]store.Kind, error) {
	var out []store.Kind
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			k, err := store.ParseKind(s)
			if err != nil {
				return nil, usage(err)
			}
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out, nil
}

// useCert brings the certificate files of rec up to date in this
// environment's directory (the chain may have re-signed the
// certificate; env or exec may run where no alilogin wrote the files
// yet: another $XDG_RUNTIME_DIR, or none, from cron or ssh) and puts
// them in force in s.Config (env, exec). Files go into a directory only
// once the stored login names it (writeCertFiles), so that a logout from
// any environment finds them.
func (s *Session) useCert(ctx context.Context, rec *store.Record) error {
	if rec == nil || rec.ClientCert == nil {
		return nil
	}
	dir, err := clientcert.Dir(s.Env.getenv, rec.Profile)
	if err != nil {
		return err
	}
	if real, err := clientcert.Resolve(dir); err == nil {
		dir = real // as Write records it
	}
	p := clientcert.PathsIn(dir)
	if !clientcert.Same(p, rec.ClientCert) || !slices.Contains(rec.CertFileDirs(), dir) {
		if p, err = s.writeCertFiles(ctx, rec, dir); err != nil {
			return err
		}
		if rec.ClientCert == nil {
			return nil
		}
	}
	s.Config = withCertTLS(s.Config, rec.ClientCert, p)
	return nil
}

// CertLockWait is how long env, exec and the hook wait for the profile's
// lock to write the certificate's files: a renewal's wait
// (renew.DefaultLockWait), not a login's.
var CertLockWait = renew.DefaultLockWait

// writeCertFiles writes the files of the stored login's certificate in
// dir under the profile's lock (waiting CertLockWait at most), as logout
// deletes them: it reads the login again (a logout meanwhile: not logged
// in, and nothing written, so what logout removed never comes back; a
// renewal meanwhile: its certificate, which rec then takes), makes and
// checks the directory (clientcert.Prepare), records its resolved path
// in the login (stored before the files are written, and only once the
// checks have passed) and writes the files. rec.ClientCert is nil when
// the stored login has no certificate any more.
func (s *Session) writeCertFiles(ctx context.Context, rec *store.Record, dir string) (clientcert.Paths, error) {
	e := s.Env
	if e.LockWait <= 0 || e.LockWait > CertLockWait {
		e.LockWait = CertLockWait
	}
	p := clientcert.PathsIn(dir)
	l, err := LockForWrite(ctx, e, rec.Profile)
	if err != nil {
		return p, err
	}
	defer l.Release()
	st := store.Authoritative(s.Store)
	cur, err := st.Get(rec.Profile)
	if errors.Is(err, store.ErrNotFound) {
		return p, fmt.Errorf("%w: %w", renew.ErrLoginNeeded, err)
	}
	if err != nil {
		return p, err
	}
	rec.ClientCert, rec.CertDirs = cur.ClientCert, cur.CertDirs
	if cur.ClientCert == nil {
		return p, nil
	}
	if dir, err = clientcert.Prepare(dir); err != nil {
		return p, err
	}
	p = clientcert.PathsIn(dir)
	if !slices.Contains(cur.CertFileDirs(), dir) {
		cur.AddCertDir(dir)
		if err := st.Put(cur); err != nil {
			return p, fmt.Errorf("could not record the client certificate's directory %s in the stored login: %w", dir, err)
		}
		rec.CertDirs = cur.CertDirs
	}
	if clientcert.Same(p, cur.ClientCert) {
		return p, nil
	}
	return clientcert.Write(dir, cur.ClientCert)
}

// withCertTLS is cfg with the certificate files p as the client
// certificate of Nomad and Consul, where none was configured by hand (a
// grid certificate in NOMAD_CLIENT_CERT or the config file wins). The CA
// settings are left as configured: the servers' own certificates need not
// come from the PKI that signs the users'; env and exec hand out the
// configured *_CACERT with the certificate (envcontract.FromRecord).
func withCertTLS(cfg *config.Config, c *clientcert.Cert, p clientcert.Paths) *config.Config {
	if c == nil {
		return cfg
	}
	out := *cfg
	for _, s := range []*config.Server{&out.Nomad, &out.Consul} {
		if s.TLS.ClientCert == "" && s.TLS.ClientKey == "" {
			s.TLS.ClientCert, s.TLS.ClientKey = p.Cert, p.Key
		}
	}
	return &out
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
func LockForWrite(ctx context.Context, e Env, profile string) (*renew.Lock, error) {
	dir, err := renew.LockDir(e.getenv)
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
	l, err := renew.AcquireOrWait(ctx, dir, profile, wait, func() {
		fmt.Fprintf(e.stderr(), "alilogin: waiting for another alilogin to finish renewing profile %s (Ctrl-C to give up)\n", profile)
	})
	switch {
	case err == nil:
		return l, nil
	case ctx.Err() != nil:
		return nil, ErrInterrupted
	case errors.Is(err, renew.ErrLockTimeout):
		path, _ := renew.LockPath(dir, profile)
		return nil, fmt.Errorf("another alilogin has held the lock of profile %s (%s) for %s; try again once it has finished (the lock ends with the process that holds it: fuser %s names it)", profile, path, wait, path)
	}
	return nil, err
}
