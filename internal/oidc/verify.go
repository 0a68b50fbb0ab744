package oidc

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/alisw/alilogin/internal/termtext"
)

// Identity is what alilogin takes from a verified ID token.
type Identity struct {
	Issuer  string
	Subject string
	User    string   // the user claim (cern_upn)
	Roles   []string // the roles claim (cern_roles)
	Name    string
	Email   string
	Expiry  time.Time
}

// ErrInvalidIDToken wraps every ID token refusal.
var ErrInvalidIDToken = errors.New("invalid ID token")

// Verify checks raw's signature with the issuer's keys, its issuer,
// audience (our client id), authorized party (azp) and expiry, and, when
// nonce is not empty, its nonce; then it extracts the identity. Login
// and refresh both verify through it.
func (c *Client) Verify(ctx context.Context, raw, nonce string) (*Identity, error) {
	v := c.provider.Verifier(&gooidc.Config{ClientID: c.cfg.ClientID, Now: c.cfg.Now})
	tok, err := v.Verify(c.ctx(ctx), raw)
	if err != nil {
		// go-oidc quotes claims of the token (its issuer) in its errors.
		return nil, fmt.Errorf("%w from %s: %s", ErrInvalidIDToken, c.cfg.Issuer, termtext.Clean(err.Error()))
	}
	if nonce != "" && subtle.ConstantTimeCompare([]byte(tok.Nonce), []byte(nonce)) != 1 {
		return nil, fmt.Errorf("%w from %s: nonce does not match this login", ErrInvalidIDToken, c.cfg.Issuer)
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidIDToken, err)
	}
	if err := checkAZP(claims, tok.Audience, c.cfg.ClientID); err != nil {
		return nil, fmt.Errorf("%w from %s: %v", ErrInvalidIDToken, c.cfg.Issuer, err)
	}
	return IdentityFrom(tok.Issuer, tok.Subject, tok.Expiry, claims, c.cfg.UserClaim, c.cfg.RolesClaim)
}

// checkAZP applies OpenID Connect Core 3.1.3.7 (6, 7): a token for
// several audiences must name the party it was issued to in azp, and an
// azp, when present, must be this client. Otherwise a token that another
// client of the same SSO obtained, with us as one more audience, would
// pass for ours.
func checkAZP(claims map[string]any, aud []string, clientID string) error {
	v, present := claims["azp"]
	if !present {
		if len(aud) > 1 {
			return fmt.Errorf("the token has %d audiences and no azp (authorized party) claim", len(aud))
		}
		return nil
	}
	azp, ok := v.(string)
	if !ok {
		return fmt.Errorf("the azp (authorized party) claim is not a string")
	}
	if azp != clientID {
		return fmt.Errorf("the token was issued to another client (azp %q, not %q)", termtext.Clean(azp), clientID)
	}
	return nil
}

// IdentityFrom extracts the identity from verified claims.
func IdentityFrom(iss, sub string, exp time.Time, claims map[string]any, userClaim, rolesClaim string) (*Identity, error) {
	id := &Identity{Issuer: iss, Subject: sub, Expiry: exp}
	if userClaim == "" {
		userClaim = "sub"
	}
	u, _ := lookup(claims, userClaim)
	id.User, _ = u.(string)
	if id.User == "" {
		return nil, fmt.Errorf("%w: no %q claim (the user claim)", ErrInvalidIDToken, userClaim)
	}
	if rolesClaim != "" {
		r, ok := lookup(claims, rolesClaim)
		if ok {
			roles, err := stringList(r)
			if err != nil {
				return nil, fmt.Errorf("%w: roles claim %q: %v", ErrInvalidIDToken, rolesClaim, err)
			}
			id.Roles = roles
		}
	}
	id.Name, _ = claims["name"].(string)
	id.Email, _ = claims["email"].(string)
	return id, nil
}

// lookup finds a claim by name or, when it starts with "/", by JSON
// pointer (RFC 6901).
func lookup(claims map[string]any, name string) (any, bool) {
	if !strings.HasPrefix(name, "/") {
		v, ok := claims[name]
		return v, ok
	}
	var cur any = claims
	for _, tok := range strings.Split(name[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

func stringList(v any) ([]string, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{x}, nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				b, _ := json.Marshal(e)
				return nil, fmt.Errorf("not a string: %s", termtext.Clean(string(b)))
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("not a list of strings")
}
