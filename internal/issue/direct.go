package issue

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

// The direct login (issue 24): Nomad's and Consul's own JWT auth
// methods take the SSO's ID token at /v1/acl/login and answer with a
// token of the method's TTL, which expires at the server by itself. The
// ID token goes only to server, the client of the address the login
// records (apiclient.For: its origin, redirect and proxy rules).

// aclToken is Nomad's and Consul's answer to a login or a self lookup.
type aclToken struct {
	AccessorID     string
	SecretID       secret.String
	Policies       []policyName
	Roles          []policyName
	CreateTime     time.Time
	ExpirationTime *time.Time
}

// DirectLogin logs in to server (a Nomad or Consul client without a
// token) at its JWT auth method with the verified ID token, and returns
// the token with its server-side expiry. A token without an expiry is
// refused: it would outlive the profile's TTL.
func DirectLogin(ctx context.Context, server *apiclient.Client, kind store.Kind, method string, idToken secret.String, now time.Time) (*store.Token, error) {
	var body any
	switch kind {
	case store.Nomad:
		body = map[string]string{"AuthMethodName": method, "LoginToken": idToken.Reveal()}
	case store.Consul:
		body = map[string]string{"AuthMethod": method, "BearerToken": idToken.Reveal()}
	default:
		return nil, fmt.Errorf("could not log in to %s directly: it has no JWT auth method", kind.Title())
	}
	var t aclToken
	// Do, never DoIdempotent: each login makes a token.
	if err := server.Do(ctx, http.MethodPost, "/v1/acl/login", body, &t); err != nil {
		return nil, fmt.Errorf("could not log in to %s with auth method %s: %w", kind.Title(), termtext.Clean(method), scrubIDToken(err, idToken))
	}
	from := serverName(server) + " (auth method " + termtext.Clean(method) + ")"
	if err := checkToken(from, "SecretID", t.SecretID); err != nil {
		return nil, fmt.Errorf("could not log in to %s: %w", kind.Title(), err)
	}
	if err := checkID(from, "AccessorID", t.AccessorID); err != nil {
		return nil, fmt.Errorf("could not log in to %s: %w", kind.Title(), err)
	}
	if t.ExpirationTime == nil || t.ExpirationTime.IsZero() {
		return nil, fmt.Errorf("could not log in to %s: %s gave a token without an expiry (the auth method needs a MaxTokenTTL)", kind.Title(), from)
	}
	tok := &store.Token{Secret: t.SecretID, Accessor: t.AccessorID, IssuedAt: now, ExpiresAt: t.ExpirationTime.UTC(),
		Origin: store.FromDirect}
	// The TTL the method gives (its MaxTokenTTL), by the server's clock.
	tok.MaxExpiresAt, tok.TTL = tok.ExpiresAt, t.ExpirationTime.Sub(t.CreateTime).Round(time.Second)
	if t.CreateTime.IsZero() || tok.TTL <= 0 {
		tok.TTL = tok.ExpiresAt.Sub(now).Round(time.Second)
	}
	for _, p := range t.Policies {
		tok.Policies = append(tok.Policies, termtext.Clean(string(p)))
	}
	for _, r := range t.Roles { // Consul binds roles: name them
		tok.Policies = append(tok.Policies, "role:"+termtext.Clean(string(r)))
	}
	return tok, nil
}

// scrubIDToken is err with the ID token masked in the server's words,
// should a server quote it.
func scrubIDToken(err error, idToken secret.String) error {
	var ae *apiclient.Error
	if idToken.Empty() || !errors.As(err, &ae) {
		return err
	}
	for i, m := range ae.Errors {
		ae.Errors[i] = strings.ReplaceAll(m, idToken.Reveal(), "[REDACTED]")
	}
	return err
}

// ConsulLogout deletes a token of Consul's JWT login at the server
// (/v1/acl/logout, with the token itself), with consul a client with it.
func ConsulLogout(ctx context.Context, consul *apiclient.Client) error {
	if err := consul.Do(ctx, http.MethodPost, "/v1/acl/logout", nil, nil); err != nil {
		return fmt.Errorf("could not log out of Consul: %w", err)
	}
	return nil
}
