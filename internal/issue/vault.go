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

// What alilogin asks of Vault for a login's tokens, top to bottom: the
// JWT login, the Vault token and the leases renewed and revoked, the
// Nomad and Consul tokens minted from Vault's secrets engines (and
// checked at their server), and every token checked on receipt. The
// direct login at Nomad and Consul is direct.go's, Vault's health
// health.go's, the attended tier's OIDC role oidcrole.go's.

// VaultLoginRequest is a Vault JWT login.
type VaultLoginRequest struct {
	Mount   string // the JWT auth mount, e.g. "jwt"
	Role    string // the profile
	IDToken secret.String
	// For the refusal message: the user's roles from the ID token and the
	// roles the profile requires (when known from the configuration).
	UserRoles     []string
	RequiredRoles []string
	// KnownProfiles are the profiles the configuration knows (config
	// file, broker's discovery document), named when Vault does not
	// know Role; KnownFrom says where they come from.
	KnownProfiles []string
	KnownFrom     string
}

// RefusedError is Vault refusing the JWT login for the profile.
type RefusedError struct {
	Profile       string
	UserRoles     []string
	RequiredRoles []string
	Reason        string // Vault's words
	// Unknown: Vault has no such role, so no such profile; Known and
	// KnownFrom are VaultLoginRequest's KnownProfiles and KnownFrom.
	Unknown   bool
	Known     []string
	KnownFrom string
}

func (e *RefusedError) Error() string {
	if e.Unknown {
		return e.unknown()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Vault refused the login to profile %q (%s).\n", e.Profile, e.Reason)
	if len(e.UserRoles) == 0 {
		b.WriteString("  Your SSO roles: none.\n")
	} else {
		fmt.Fprintf(&b, "  Your SSO roles: %s.\n", strings.Join(e.UserRoles, ", "))
	}
	if len(e.RequiredRoles) > 0 {
		fmt.Fprintf(&b, "  Profile %s requires one of: %s.\n", e.Profile, strings.Join(e.RequiredRoles, ", "))
	} else {
		fmt.Fprintf(&b, "  The roles that profile %s requires are not in your configuration; ask its admins.\n", e.Profile)
	}
	b.WriteString("  Ask for the role in the CERN Application Portal, or choose another profile with --profile")
	return b.String()
}

// unknown says that the profile does not exist, and which do: a role
// asked for in the Application Portal would not make it exist.
func (e *RefusedError) unknown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "profile %q is unknown: %s.\n", e.Profile, e.Reason)
	if len(e.Known) > 0 {
		from := ""
		if e.KnownFrom != "" {
			from = " (" + e.KnownFrom + ")"
		}
		fmt.Fprintf(&b, "  Known profiles%s: %s.\n", from, strings.Join(e.Known, ", "))
		b.WriteString("  Choose one with --profile")
		return b.String()
	}
	roles := "ROLE"
	if len(e.UserRoles) > 0 {
		roles = strings.Join(e.UserRoles, ",")
	}
	fmt.Fprintf(&b, "  No profile is configured here to list: the broker's admins can list those your roles allow (broker explain --roles %s)", roles)
	return b.String()
}

// authResponse is Vault's answer to a login or a token renewal.
type authResponse struct {
	Auth *struct {
		ClientToken   secret.String `json:"client_token"`
		Accessor      string        `json:"accessor"`
		Policies      []string      `json:"policies"`
		TokenPolicies []string      `json:"token_policies"`
		LeaseDuration int           `json:"lease_duration"`
		Renewable     bool          `json:"renewable"`
	} `json:"auth"`
}

func (a *authResponse) token(from string, now time.Time) (*store.Token, error) {
	if a.Auth == nil || a.Auth.ClientToken.Empty() {
		return nil, errors.New("Vault answered without a token")
	}
	if err := checkToken(from, "client_token", a.Auth.ClientToken); err != nil {
		return nil, err
	}
	if err := checkID(from, "accessor", a.Auth.Accessor); err != nil {
		return nil, err
	}
	t := &store.Token{
		Secret:    a.Auth.ClientToken,
		Accessor:  a.Auth.Accessor,
		Renewable: a.Auth.Renewable,
		Policies:  a.Auth.Policies,
		IssuedAt:  now,
	}
	if a.Auth.LeaseDuration > 0 {
		t.TTL = time.Duration(a.Auth.LeaseDuration) * time.Second
		t.ExpiresAt = now.Add(t.TTL)
	} else {
		t.ExpiresAt = now.Add(100 * 365 * 24 * time.Hour) // a non-expiring token (root)
	}
	return t, nil
}

// VaultLogin logs in to Vault with the ID token and role = profile.
func VaultLogin(ctx context.Context, vault *apiclient.Client, req VaultLoginRequest, now time.Time) (*store.Token, error) {
	mount := strings.Trim(req.Mount, "/")
	var out authResponse
	err := vault.WithToken(secret.String{}).Do(ctx, http.MethodPost, "/v1/auth/"+mount+"/login",
		map[string]string{"role": req.Role, "jwt": req.IDToken.Reveal()}, &out)
	if err != nil {
		return nil, loginError(err, req, mount)
	}
	return out.token(serverName(vault), now)
}

func loginError(err error, req VaultLoginRequest, mount string) error {
	var ae *apiclient.Error
	if !errors.As(err, &ae) || ae.Status == 0 {
		return fmt.Errorf("could not log in to Vault: %w", err)
	}
	reason := vaultMessage(ae.Errors)
	if reason == "" {
		reason = http.StatusText(ae.Status)
	}
	switch {
	case ae.Status == http.StatusNotFound || strings.Contains(reason, "no handler for route"):
		return fmt.Errorf("Vault at %s has no JWT auth method at auth/%s (check the jwt mount setting)", ae.Addr, mount)
	case strings.Contains(reason, "could not be found") && strings.Contains(reason, "role"):
		return &RefusedError{Profile: req.Role, UserRoles: req.UserRoles, RequiredRoles: req.RequiredRoles,
			Reason: fmt.Sprintf("Vault at %s has no role %q", ae.Addr, req.Role), Unknown: true, Known: req.KnownProfiles, KnownFrom: req.KnownFrom}
	case ae.Status == http.StatusBadRequest || ae.Status == http.StatusForbidden || ae.Status == http.StatusUnauthorized:
		return &RefusedError{Profile: req.Role, UserRoles: req.UserRoles, RequiredRoles: req.RequiredRoles, Reason: reason}
	}
	return fmt.Errorf("could not log in to Vault: %w", err)
}

// Renew renews the Vault token of vault (renew-self) by increment (0 =
// the role's TTL) and returns the token with its new expiry.
func Renew(ctx context.Context, vault *apiclient.Client, increment time.Duration, now time.Time) (*store.Token, error) {
	in := map[string]any{}
	if increment > 0 {
		in["increment"] = fmt.Sprintf("%ds", int(increment.Seconds()))
	}
	var out authResponse
	// A renewal may be sent twice: it extends the same token.
	if err := vault.DoIdempotent(ctx, http.MethodPost, "/v1/auth/token/renew-self", in, &out); err != nil {
		return nil, pathError(err, "renew the Vault token", "auth/token/renew-self")
	}
	t, err := out.token(serverName(vault), now)
	if err != nil {
		return nil, err
	}
	if t.Secret.Empty() {
		t.Secret = vault.Token
	}
	return t, nil
}

// Revoke revokes the Vault token of vault and with it every lease (Nomad,
// Consul tokens) created under it.
func Revoke(ctx context.Context, vault *apiclient.Client) error {
	if err := vault.Do(ctx, http.MethodPost, "/v1/auth/token/revoke-self", nil, nil); err != nil {
		return pathError(err, "revoke the Vault token", "auth/token/revoke-self")
	}
	return nil
}

// Lease is a renewed lease.
type Lease struct {
	ID        string
	Renewable bool
	ExpiresAt time.Time
	TTL       time.Duration // the lease duration granted
}

// RenewLease renews a lease (a Nomad or Consul token) by increment (0:
// the lease's own TTL). It uses the path form, PUT
// sys/leases/renew/<lease id> with at most the increment in the body, so
// that a Vault policy can allow the renewal of a profile's own leases only
// (the generated alilogin-profile-P allows
// sys/leases/renew/<mount>/creds/P/* with no parameter but increment),
// and so that Vault's default policy may deny the body form for the
// broker's engines (plan.DefaultPolicyLeaseDeny: any token could renew
// any lease to one second by body).
func RenewLease(ctx context.Context, vault *apiclient.Client, leaseID string, increment time.Duration, now time.Time) (*Lease, error) {
	var in any // no body
	if increment > 0 {
		in = map[string]any{"increment": int(increment.Seconds())}
	}
	var out struct {
		LeaseID       string `json:"lease_id"`
		LeaseDuration int    `json:"lease_duration"`
		Renewable     bool   `json:"renewable"`
	}
	path := "sys/leases/renew/" + apiclient.EscapePath(leaseID)
	if err := vault.DoIdempotent(ctx, http.MethodPut, "/v1/"+path, in, &out); err != nil {
		return nil, pathError(err, "renew the lease", path)
	}
	if err := checkID(serverName(vault), "lease_id", out.LeaseID); err != nil {
		return nil, fmt.Errorf("could not renew the lease: %w", err)
	}
	ttl := time.Duration(out.LeaseDuration) * time.Second
	return &Lease{ID: out.LeaseID, Renewable: out.Renewable, ExpiresAt: now.Add(ttl), TTL: ttl}, nil
}

// RevokeLease revokes a lease now. It uses the path form,
// PUT sys/leases/revoke/<lease id>, so that a Vault policy can allow the
// revocation of a profile's own leases only (a glob on the path):
// the generated policy alilogin-profile-P does, for
// sys/leases/revoke/<mount>/creds/P/*.
func RevokeLease(ctx context.Context, vault *apiclient.Client, leaseID string) error {
	path := "sys/leases/revoke/" + apiclient.EscapePath(leaseID)
	if err := vault.Do(ctx, http.MethodPut, "/v1/"+path, nil, nil); err != nil {
		return pathError(err, "revoke the lease", path)
	}
	return nil
}

// PermissionError is a 403 on a path.
type PermissionError struct {
	Server string
	Path   string
	Err    error
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("%s denied access to %s (403 permission denied): your profile's policy does not allow it", e.Server, e.Path)
}

func (e *PermissionError) Unwrap() error { return e.Err }

// pathError translates a failed call on path.
func pathError(err error, what, path string) error {
	if apiclient.StatusOf(err) == http.StatusForbidden {
		var ae *apiclient.Error
		errors.As(err, &ae)
		return fmt.Errorf("could not %s: %w", what, &PermissionError{Server: ae.Server, Path: path, Err: err})
	}
	return fmt.Errorf("could not %s: %w", what, err)
}

// serverName names c in errors: "Vault at https://vault.example:8200".
func serverName(c *apiclient.Client) string {
	return c.Name + " at " + c.Addr
}

// Minting: a Nomad or Consul token read from its Vault secrets engine.

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

// Tokens checked on receipt, whoever sent them.

// MaxTokenLen bounds a token as received. Vault service tokens (hvs.…)
// are about 95 characters, batch tokens a few hundred; Nomad and Consul
// tokens are UUIDs.
const MaxTokenLen = 4096

// checkToken refuses a token that alilogin would later print (token),
// write into shell code (env) or put in an environment (exec) and that
// is not what any real Vault, Nomad or Consul issues: empty, longer than
// MaxTokenLen, or with a byte outside printable ASCII or a space. A
// token cannot be cleaned without changing it, so it is refused; the
// error names the server (from, e.g. "Vault at https://…") and what it
// sent, never the token itself.
func checkToken(from, what string, tok secret.String) error {
	s := tok.Reveal()
	switch {
	case s == "":
		return fmt.Errorf("%s answered without %s", from, what)
	case len(s) > MaxTokenLen:
		return fmt.Errorf("%s sent a %s of %d bytes (over %d): not a token, refused", from, what, len(s), MaxTokenLen)
	}
	if i := unprintable(s); i >= 0 {
		return fmt.Errorf("%s sent a %s with a byte 0x%02x at offset %d (a token is printable ASCII without spaces): refused", from, what, s[i], i)
	}
	return nil
}

// unprintable is the offset of the first byte of s that is not printable
// ASCII or is a space, or -1.
func unprintable(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' {
			return i
		}
	}
	return -1
}

// MaxIDLen bounds an accessor or lease id as received. Accessors are a
// few dozen characters; a lease id is the creds path (mount and role)
// plus a random part.
const MaxIDLen = 1024

// checkID refuses an accessor or lease id that is not what a real Vault
// sends: longer than MaxIDLen, or with a byte outside printable ASCII or
// a space (the rule of checkToken). alilogin prints them in warnings and
// status and sends lease ids back in paths. Empty is allowed: a batch
// token has no accessor, an unleased secret no lease id. Unlike a token,
// the value is not secret, but the error still does not repeat it.
func checkID(from, what, s string) error {
	if len(s) > MaxIDLen {
		return fmt.Errorf("%s sent a %s of %d bytes (over %d): refused", from, what, len(s), MaxIDLen)
	}
	if i := unprintable(s); i >= 0 {
		return fmt.Errorf("%s sent a %s with a byte 0x%02x at offset %d (printable ASCII without spaces expected): refused", from, what, s[i], i)
	}
	return nil
}
