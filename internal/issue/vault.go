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
)

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
	fmt.Fprintf(&b, "  No profile is configured here to list: the broker's admins can list those your roles allow (broker explain --roles %s),\n", roles)
	b.WriteString("  or get them from your broker with: alilogin setup --broker URL")
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
