package elevate

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/issue"
	"github.com/alisw/alilogin/internal/oidc"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
)

// Options are one elevation.
type Options struct {
	Tier *Tier
	Ask  Ask
	// Vault is a client of Vault without a token; Nomad and Consul are
	// the engines' mounts and the servers that check the new tokens
	// (Server nil: no check).
	Vault         *apiclient.Client
	Nomad, Consul issue.Target
	// Loopback: the browser (nil: print the URL, --no-browser), stderr,
	// the timeout, the listen address (empty: oidc.DefaultPorts on
	// 127.0.0.1; Vault compares the host literally, so only 127.0.0.1).
	Loopback oidc.AuthCodeOptions
	Now      func() time.Time
}

// Grant is an elevation's outcome: the privileged tokens, held by the
// agent only, the window's end and the use budget (0: none).
type Grant struct {
	Vault, Nomad, Consul *store.Token
	Until                time.Time
	Uses                 int
	// Warnings are what the user should know (a token not checked).
	Warnings []string
}

// CheckListen checks an elevate --listen value: 127.0.0.1 only, since
// Vault matches the redirect URI's host literally (only its port is
// free).
func CheckListen(spec string) (string, error) {
	addr, err := oidc.CheckListen(spec)
	if err != nil {
		return "", err
	}
	if h, _, _ := net.SplitHostPort(addr); h != "127.0.0.1" {
		return "", fmt.Errorf("invalid --listen %q: attended elevation listens on 127.0.0.1 only (the redirect URI Vault allows)", spec)
	}
	return addr, nil
}

// Run signs the user in to the tier's OIDC role in the browser and mints
// the tier's Nomad and Consul tokens with the privileged Vault token.
// When a mint fails, the Vault token is revoked (with what was minted)
// before the error is returned.
func Run(ctx context.Context, o Options) (*Grant, error) {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	window, uses, err := o.Tier.Bounds(o.Ask)
	if err != nil {
		return nil, err
	}
	if o.Loopback.Listen != "" {
		if _, err := CheckListen(o.Loopback.Listen); err != nil {
			return nil, err
		}
	}
	nonce := secret.New(randomString(24))
	var vtok *store.Token
	var state string
	err = oidc.Run(ctx, o.Loopback, oidc.Flow{
		CallbackPath: o.Tier.RedirectPath,
		AuthURL: func(ctx context.Context, redirect string) (string, string, error) {
			u, err := issue.OIDCAuthURL(ctx, o.Vault, issue.OIDCAuthRequest{Mount: o.Tier.OIDCMount, Role: o.Tier.Role, RedirectURI: redirect, ClientNonce: nonce})
			if err != nil {
				return "", "", err
			}
			u, state, err = FreshSignIn(u, o.Tier.MaxAge)
			return u, state, err
		},
		Finish: func(ctx context.Context, code string) error {
			t, err := issue.OIDCCallback(ctx, o.Vault, issue.OIDCCallbackRequest{Mount: o.Tier.OIDCMount, Role: o.Tier.Role, State: state, Code: code, ClientNonce: nonce}, now())
			if err != nil {
				return err
			}
			vtok = t
			return nil
		},
	})
	if err != nil {
		if errors.Is(err, oidc.ErrSignInEnded) {
			return nil, fmt.Errorf("no attended sign-in: %w", err)
		}
		return nil, err
	}
	g := &Grant{Vault: vtok, Uses: uses, Until: now().Add(window)}
	if !vtok.ExpiresAt.IsZero() && vtok.ExpiresAt.Before(g.Until) {
		g.Until = vtok.ExpiresAt
	}
	vault := o.Vault.WithToken(vtok.Secret)
	for _, m := range []struct {
		kind   store.Kind
		t      issue.Target
		role   string
		result **store.Token
	}{{store.Nomad, o.Nomad, o.Tier.NomadRole, &g.Nomad}, {store.Consul, o.Consul, o.Tier.ConsulRole, &g.Consul}} {
		if m.role == "" {
			continue
		}
		tok, err := issue.Mint(ctx, vault, m.kind, m.t, m.role, now())
		var ce *issue.CheckError
		switch {
		case errors.As(err, &ce):
			g.Warnings = append(g.Warnings, ce.Error())
		case err != nil:
			Revoke(vault, io.Discard)
			return nil, err
		}
		*m.result = tok
	}
	return g, nil
}

// Revoke revokes the privileged Vault token of vault, and with it the
// Nomad and Consul tokens minted under it, with its own deadline (the
// caller's context may be the one that ended). A failure is written to
// stderr and returned.
func Revoke(vault *apiclient.Client, stderr io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := issue.Revoke(ctx, vault)
	if err != nil {
		fmt.Fprintf(stderr, "warning: %v; the privileged tokens stay valid until the window's end\n", err)
	}
	return err
}

// FreshSignIn is Vault's authorization URL asking the IdP for a new
// sign-in whatever its session: prompt=login, and max_age when Vault's
// role did not set it. It returns the state Vault put in the URL, which
// the callback must bring back.
func FreshSignIn(authURL string, maxAge time.Duration) (string, string, error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return "", "", fmt.Errorf("could not read Vault's sign-in URL: %w", err)
	}
	q := u.Query()
	state := q.Get("state")
	if state == "" {
		return "", "", errors.New("Vault's sign-in URL carries no state")
	}
	q.Set("prompt", "login")
	if !q.Has("max_age") && maxAge > 0 {
		q.Set("max_age", strconv.Itoa(int(maxAge.Seconds())))
	}
	u.RawQuery = q.Encode()
	return u.String(), state, nil
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
