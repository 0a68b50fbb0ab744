package issue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
)

// ErrNoEngine: Vault has no secrets engine at the configured mount (it
// answered 404 for the creds path).
var ErrNoEngine = errors.New("Vault has no secrets engine at the mount")

// Target is one secrets engine to mint from.
type Target struct {
	Mount string // the engine's mount in Vault, e.g. "nomad"
	// Server is a client of Nomad or Consul itself (no token), used to
	// read the new token's policies; nil skips that.
	Server *apiclient.Client
}

// Minted is the outcome of minting a login's Nomad and Consul tokens:
// each token or its error. One may succeed while the other fails; keep
// what worked.
type Minted struct {
	Nomad, Consul       *store.Token
	NomadErr, ConsulErr error
	// NomadCheck, ConsulCheck: the token was minted but not checked at
	// its server (*CheckError); the token is kept.
	NomadCheck, ConsulCheck error
}

// Err joins the errors, nil when all requested tokens were minted.
func (m *Minted) Err() error { return errors.Join(m.NomadErr, m.ConsulErr) }

// creds is Vault's answer to a creds read.
type creds struct {
	LeaseID       string         `json:"lease_id"`
	LeaseDuration int            `json:"lease_duration"`
	Renewable     bool           `json:"renewable"`
	Data          map[string]any `json:"data"`
}

func readCreds(ctx context.Context, vault *apiclient.Client, mount, role, system string, now time.Time) (*creds, error) {
	path := strings.Trim(mount, "/") + "/creds/" + role
	var c creds
	// Do, never DoIdempotent: each read of a creds path mints a token.
	if err := vault.Do(ctx, http.MethodGet, "/v1/"+path, nil, &c); err != nil {
		return nil, credsError(err, system, path)
	}
	return &c, nil
}

func credsError(err error, system, path string) error {
	var ae *apiclient.Error
	errors.As(err, &ae)
	switch st := apiclient.StatusOf(err); {
	case st == http.StatusForbidden:
		return fmt.Errorf("could not get a %s token: %w", system, &PermissionError{Server: "Vault", Path: path, Err: err})
	case st == 0:
		return fmt.Errorf("could not get a %s token: %w", system, err)
	case st == http.StatusNotFound:
		// No engine mounted there (OpenBao ships none): the direct
		// login may stand in.
		return fmt.Errorf("could not get a %s token: %w (Vault answered 404 for %s)", system, ErrNoEngine, path)
	default:
		// Vault relays Nomad's/Consul's failure: name it.
		msg := vaultMessage(ae.Errors)
		hint := ""
		if strings.Contains(msg, "connection refused") || strings.Contains(msg, "no such host") || strings.Contains(msg, "timeout") {
			hint = fmt.Sprintf(" (Vault cannot reach %s: is it down?)", system)
		}
		return fmt.Errorf("could not get a %s token: Vault could not read %s (%d): %s%s", system, path, st, msg, hint)
	}
}

func (c *creds) token(from, secretKey, accessorKey string, now time.Time) (*store.Token, error) {
	s, _ := c.Data[secretKey].(string)
	if s == "" {
		return nil, fmt.Errorf("Vault answered without %s", secretKey)
	}
	if err := checkToken(from, secretKey, secret.New(s)); err != nil {
		return nil, err
	}
	acc, _ := c.Data[accessorKey].(string)
	if err := checkID(from, accessorKey, acc); err != nil {
		return nil, err
	}
	if err := checkID(from, "lease_id", c.LeaseID); err != nil {
		return nil, err
	}
	t := &store.Token{Secret: secret.New(s), Accessor: acc, LeaseID: c.LeaseID, Renewable: c.Renewable, IssuedAt: now}
	if c.LeaseDuration > 0 {
		t.TTL = time.Duration(c.LeaseDuration) * time.Second
		t.ExpiresAt = now.Add(t.TTL)
	}
	return t, nil
}

// engine is what differs between the Nomad and Consul secrets engines:
// the system named in errors and the keys of the token and accessor in
// Vault's answer.
type engine struct{ system, secretKey, accessorKey string }

// engineOf is the secrets engine that mints tokens of kind k.
func engineOf(k store.Kind) (engine, bool) {
	switch k {
	case store.Nomad:
		return engine{k.Title(), "secret_id", "accessor_id"}, true
	case store.Consul:
		return engine{k.Title(), "token", "accessor"}, true
	}
	return engine{}, false
}

// CheckError: the token was minted, but the server it is for did not
// answer its self lookup (a wrong NOMAD_ADDR or CONSUL_HTTP_ADDR, the
// server down, a token it does not know). The token may be fine, but
// nothing showed that it works where it will be sent. Mint returns it
// with the token.
type CheckError struct {
	Server store.Kind // Nomad or Consul
	Addr   string     // the configured address the lookup went to
	Err    error
}

func (e *CheckError) Error() string {
	return fmt.Sprintf("could not check the new %s token at %s: %v", e.Server.Title(), e.Addr, e.Err)
}

func (e *CheckError) Unwrap() error { return e.Err }

// Mint reads <mount>/creds/<role> of the engine kind with the Vault
// token in vault and (for the summary and status) the new token's
// policies from the server. When that lookup fails, Mint returns the
// token and a *CheckError: the caller decides what an unchecked token
// is worth.
func Mint(ctx context.Context, vault *apiclient.Client, kind store.Kind, t Target, role string, now time.Time) (*store.Token, error) {
	e, ok := engineOf(kind)
	if !ok {
		return nil, fmt.Errorf("could not mint a %s token: not a Vault secrets engine", kind)
	}
	c, err := readCreds(ctx, vault, t.Mount, role, e.system, now)
	if err != nil {
		return nil, err
	}
	tok, err := c.token(serverName(vault)+" (its "+t.Mount+" engine)", e.secretKey, e.accessorKey, now)
	if err != nil {
		return nil, fmt.Errorf("could not get a %s token: %w", e.system, err)
	}
	if t.Server != nil {
		// Nomad lists policy names, Consul policy links {ID, Name}.
		var self struct{ Policies []policyName }
		if err := t.Server.WithToken(tok.Secret).DoIdempotent(ctx, http.MethodGet, "/v1/acl/token/self", nil, &self); err != nil {
			return tok, &CheckError{Server: kind, Addr: t.Server.Addr, Err: err}
		}
		for _, p := range self.Policies {
			tok.Policies = append(tok.Policies, string(p))
		}
	}
	return tok, nil
}

// policyName is a policy in an ACL token: a name (Nomad) or a link with
// a Name (Consul).
type policyName string

func (p *policyName) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*p = policyName(s)
		return nil
	}
	var link struct{ Name string }
	if err := json.Unmarshal(b, &link); err != nil {
		return err
	}
	*p = policyName(link.Name)
	return nil
}

// vaultMessage flattens Vault's multi-line errors ("1 error occurred:\n\t*
// ...") into one line.
func vaultMessage(errs []string) string {
	var parts []string
	for _, e := range errs {
		for _, line := range strings.Split(e, "\n") {
			line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "*"))
			if line == "" || strings.HasSuffix(line, "error occurred:") || strings.HasSuffix(line, "errors occurred:") {
				continue
			}
			parts = append(parts, line)
		}
	}
	return strings.Join(parts, "; ")
}

// Set records the mint of kind k: its token, or its error.
func (m *Minted) Set(k store.Kind, t *store.Token, err error) {
	switch k {
	case store.Nomad:
		m.Nomad, m.NomadErr = t, err
	case store.Consul:
		m.Consul, m.ConsulErr = t, err
	}
}

// SetCheck records that the token of kind k was minted but not checked
// at its server.
func (m *Minted) SetCheck(k store.Kind, ce *CheckError) {
	switch k {
	case store.Nomad:
		m.NomadCheck = ce
	case store.Consul:
		m.ConsulCheck = ce
	}
}
