package agent

import (
	"context"
	"errors"
	"time"

	"github.com/alisw/alilogin/internal/agent/guard"
	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/clientcert"
	"github.com/alisw/alilogin/internal/store"
)

// Kind is a server the agent has a route for: the kind of the record's
// token it stands for.
type Kind = store.Kind

// The routes.
const (
	Vault  = store.Vault
	Nomad  = store.Nomad
	Consul = store.Consul
)

// Kinds are every route, in the order status lists them.
var Kinds = []Kind{Nomad, Consul, Vault}

// Upstream is where a route forwards for one profile: the configured
// server, checked with the configured CA and server name (TLS, as the
// CLI's clients check it); TLS.ClientCert and ClientKey are a certificate
// configured by hand (a grid certificate), else, with RecordCert, the
// login's certificate from memory is presented.
type Upstream struct {
	Addr       string
	TLS        apiclient.TLS
	RecordCert bool
}

// Creds are one profile's credentials as the agent holds them: the
// stored login's tokens, its client certificate with the key, and where
// each server is. Gen is the stored login's generation when it was read
// (store.Watch), Watch reads the current one; ok false: nothing to watch
// on this system.
type Creds struct {
	Profile string
	Tokens  map[Kind]*store.Token
	Cert    *clientcert.Cert
	Servers map[Kind]Upstream
	Gen     string
	Watch   func() (gen string, ok bool)
	// Rules are the profile's request rules (the guard's: read-only
	// routes, the Vault mounts whose creds paths are refused).
	Rules guard.Rules
}

// Loader brings a profile's tokens to validity through alilogin's renewal
// chain (the command wires internal/session: the same code as `alilogin
// token`, under the same per-profile lock) and returns them. env is the
// environment of the alilogin that opened the profile: its
// configuration, store and keyring. Errors: ErrLoginNeeded (wrapped) when
// only a new login helps, ErrNotLoggedIn when nothing is stored for the
// profile (a logout).
type Loader interface {
	Load(ctx context.Context, profile string, env []string, kinds []Kind) (*Creds, error)
	// Stored reports whether a login of profile is stored (no renewal,
	// no network): false after a logout.
	Stored(ctx context.Context, profile string, env []string) (bool, error)
}

// ErrLoginNeeded and ErrNotLoggedIn are a Loader's answers that the
// agent tells a client as "run: alilogin login --profile P".
var (
	ErrLoginNeeded = errors.New("a new login is needed")
	ErrNotLoggedIn = errors.New("not logged in")
)

// fresh reports whether t is valid at now for long enough to be used
// without asking the renewal chain: for longer than margin, or, for a
// token whose whole life is short, longer than half its life.
func fresh(t *store.Token, now time.Time, margin time.Duration) bool {
	if t == nil || t.Secret.Empty() {
		return false
	}
	if !t.IssuedAt.IsZero() {
		if half := t.ExpiresAt.Sub(t.IssuedAt) / 2; half < margin {
			margin = half
		}
	}
	return t.ExpiresAt.Sub(now) > margin
}
