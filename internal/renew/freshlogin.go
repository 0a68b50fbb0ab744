package renew

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

// FreshLogin asks for a fresh login of a profile with a verified ID
// token: what `alilogin login` makes of a sign-in, and step 4 of the
// chain makes of a refresh grant.
type FreshLogin struct {
	Profile string
	IDToken secret.String // verified
	// Roles are the user's SSO roles, for the message when Vault refuses
	// the login; may be nil.
	Roles []string
	// Kinds are the Nomad and Consul tokens to mint.
	Kinds []store.Kind
	// Replaced is a Vault token the new login replaces whatever happens
	// next (the chain's own, under the profile's lock: its record is
	// stored even when a mint fails): revoked right after the Vault
	// login. nil: none.
	Replaced *store.Token
	// Keep, when set, stores the new login with the profile's lock held
	// and returns the login it replaced (nil: none) and, when not nil, a
	// function that lets go of the lock, called last, once the replaced
	// login is revoked (RevokeReplaced) or, when Keep failed, the new one:
	// then nothing is kept and the new Vault token is revoked, and with
	// it what was minted (*NotKeptError). Without Keep the caller stores
	// the outcome (the chain: Ensure, with its checks).
	Keep func(vault *store.Token, minted []Minted) (replaced *store.Record, unlock func(), err error)
	// RevokeReplaced revokes the login Keep replaced, at the Vault that
	// issued it.
	RevokeReplaced func(ctx context.Context, old *store.Record)
	// BeforeMint, when set, runs after the Vault login and before the
	// mints, with the new Vault token: the client certificate is signed
	// there, so that the mints' calls to Nomad and Consul present it. It
	// returns the steps and warnings to report; its failure is its
	// caller's to keep (a login without a certificate is still a login).
	BeforeMint func(ctx context.Context, vault *store.Token) (steps, warnings []string)
	// Mark, when set, is called after each step with its name.
	Mark func(step string)
}

// Minted is one token of FreshLogin.Kinds, capped by the new Vault
// token's expiry, or why it could not be minted.
type Minted struct {
	Kind  store.Kind
	Token *store.Token
	Err   error
}

// LoginOutcome is what a fresh login obtained.
type LoginOutcome struct {
	Vault    *store.Token
	Minted   []Minted // in the order of FreshLogin.Kinds
	Steps    []string
	Warnings []string
}

// NotKeptError: Keep failed, so the fresh login was not kept; its Vault
// token was revoked, unless RevokeErr says why not.
type NotKeptError struct {
	Err       error // Keep's
	RevokeErr error
	Vault     *store.Token // the new, unkept Vault token
}

func (e *NotKeptError) Error() string { return e.Err.Error() }
func (e *NotKeptError) Unwrap() error { return e.Err }

// Login is the one fresh login, of `alilogin login` and of the chain's
// step 4 alike: the Vault JWT login with role = profile, the Vault token
// it replaces for certain revoked (FreshLogin.Replaced), the Nomad and
// Consul tokens minted in parallel with the new Vault token and capped
// by its expiry (Vault revokes them with it, whatever their lease
// says), the login kept under the profile's lock (FreshLogin.Keep), and
// the login that replaced revoked. A failed mint is no error: Minted
// says it, and the rest is kept. The error is the Vault login's, as
// VaultAPI.Login returns it, or a *NotKeptError.
func Login(ctx context.Context, v VaultAPI, now func() time.Time, f FreshLogin) (*LoginOutcome, error) {
	if now == nil {
		now = time.Now
	}
	mark := func(step string) {
		if f.Mark != nil {
			f.Mark(step)
		}
	}
	out := &LoginOutcome{}
	vt, err := v.Login(ctx, f.IDToken, f.Profile, f.Roles)
	if err != nil {
		return out, err
	}
	out.Vault = vt
	out.Steps = append(out.Steps, "logged in to vault")
	mark("Vault login")
	if old := f.Replaced; old != nil && old.ValidFor(now(), 0) && !old.Secret.Equal(vt.Secret) {
		if err := v.RevokeSelf(ctx, old.Secret); err != nil && apiclient.StatusOf(err) != 403 {
			out.Warnings = append(out.Warnings, fmt.Sprintf("could not revoke the replaced Vault token %s: %v", termtext.Clean(old.Accessor), err))
		} else if err == nil {
			out.Steps = append(out.Steps, "revoked replaced vault token")
		}
	}

	if f.BeforeMint != nil {
		steps, warnings := f.BeforeMint(ctx, vt)
		out.Steps = append(out.Steps, steps...)
		out.Warnings = append(out.Warnings, warnings...)
	}

	out.Minted = make([]Minted, len(f.Kinds))
	var wg sync.WaitGroup
	for i, k := range f.Kinds {
		wg.Go(func() {
			t, err := v.Mint(ctx, vt.Secret, k, f.Profile)
			out.Minted[i] = Minted{Kind: k, Token: t.CappedBy(vt), Err: err}
		})
	}
	wg.Wait()
	for _, m := range out.Minted {
		if m.Err == nil {
			out.Steps = append(out.Steps, fmt.Sprintf("minted %s token", m.Kind))
		}
	}
	mark("Nomad+Consul tokens")

	if f.Keep == nil {
		return out, nil
	}
	old, unlock, err := f.Keep(vt, out.Minted)
	if unlock != nil {
		defer unlock()
	}
	if err != nil {
		// Nothing kept: do not leave the new tokens alive either.
		// Revoking the Vault token revokes the leases minted with it.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		rerr := v.RevokeSelf(rctx, vt.Secret)
		cancel()
		return out, &NotKeptError{Err: err, RevokeErr: rerr, Vault: vt}
	}
	mark("store")
	if old != nil && f.RevokeReplaced != nil {
		f.RevokeReplaced(ctx, old)
	}
	return out, nil
}
