package session

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/renew"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/tokenhelper"
)

// Status is what status says of one profile (its --json form).
type Status struct {
	Profile string `json:"profile"`
	Current bool   `json:"current"` // it is the current profile (alilogin use)
	Usable  bool   `json:"usable"`
	// Err is why the login could not be read; Error is what the
	// command says of it (cmd/alilogin, with what to do next).
	Err          error                  `json:"-"`
	Error        string                 `json:"error,omitempty"`
	User         string                 `json:"user,omitempty"`
	Roles        []string               `json:"roles,omitempty"`
	RefreshToken bool                   `json:"refresh_token"`
	Tokens       map[string]TokenStatus `json:"tokens,omitempty"`
	UpdatedAt    *time.Time             `json:"updated_at,omitempty"`
	ClientCert   *CertStatus            `json:"client_certificate,omitempty"`
	// TokenHelperRefusal is why the vault CLI's token helper last gave
	// no token for this profile (or before it knew one), since the last
	// token it gave: the vault CLI does not show it.
	TokenHelperRefusal *tokenhelper.RefusalRecord `json:"token_helper_refusal,omitempty"`
	// AttendedWindow is the profile's open attended window in the
	// agent (alilogin elevate), nil when none: cmd/alilogin fills it
	// from the agent's status.
	AttendedWindow *WindowStatus `json:"attended_window,omitempty"`
}

// WindowStatus is an open attended window: its end and what is left of
// its write budget (Uses 0: none).
type WindowStatus struct {
	Until time.Time `json:"until"`
	Uses  int       `json:"uses,omitempty"`
	Used  int       `json:"used"`
	Left  int       `json:"left,omitempty"`
}

// TokenStatus is one token as `status --json` and `login --json` show it:
// the one shape of a token in alilogin's JSON (docs/commands.md).
type TokenStatus struct {
	Token      string    `json:"token"` // masked unless --show-tokens
	Accessor   string    `json:"accessor,omitempty"`
	LeaseID    string    `json:"lease_id,omitempty"`
	Policies   []string  `json:"policies"`
	ExpiresAt  time.Time `json:"expires_at"`
	TTLSeconds int64     `json:"ttl_seconds"`
	Valid      bool      `json:"valid"`
	Renewable  bool      `json:"renewable"`
	// From is where the token came from: "vault" (Vault's login, or
	// minted at its secrets engine) or "direct" (the server's own JWT
	// login, issue 24).
	From string `json:"from"`
}

// Describe reads the profile's record and says what it holds: usable
// when the Vault token is valid or a refresh token can get one without
// a browser. The tokens are masked unless show. No network call.
func Describe(st store.Store, profile string, now time.Time, show bool) Status {
	s := Status{Profile: profile}
	rec, err := st.Get(profile)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			err = fmt.Errorf("%w: %w", renew.ErrLoginNeeded, err)
		}
		s.Err = err
		return s
	}
	s.User, s.Roles, s.RefreshToken = rec.User, rec.Roles, !rec.RefreshToken.Empty()
	if !rec.UpdatedAt.IsZero() {
		u := rec.UpdatedAt
		s.UpdatedAt = &u
	}
	s.Tokens = map[string]TokenStatus{}
	for _, k := range store.Kinds {
		if t := rec.Token(k); t != nil {
			s.Tokens[string(k)] = DescribeToken(t, now, show)
		}
	}
	s.Usable = rec.Vault.ValidFor(now, 0) || s.RefreshToken || rec.Nomad.ValidFor(now, 0) || rec.Consul.ValidFor(now, 0)
	s.ClientCert = DescribeCert(rec, now)
	return s
}

// DescribeToken is t as status and login show it at now; the token itself
// is masked unless show.
func DescribeToken(t *store.Token, now time.Time, show bool) TokenStatus {
	tj := TokenStatus{Token: maskToken(t.Secret.Reveal()), Accessor: t.Accessor, LeaseID: t.LeaseID, Policies: t.Policies,
		ExpiresAt: t.ExpiresAt.UTC(), Valid: t.ValidFor(now, 0), Renewable: t.Renewable, From: t.From()}
	if tj.Policies == nil {
		tj.Policies = []string{}
	}
	if show {
		tj.Token = t.Secret.Reveal()
	}
	if tj.Valid {
		tj.TTLSeconds = int64(t.ExpiresAt.Sub(now) / time.Second)
	}
	return tj
}

// maskToken keeps a token's type prefix (hvs., s.) and hides the rest.
func maskToken(s string) string {
	if s == "" {
		return ""
	}
	if i := strings.IndexByte(s, '.'); i > 0 && i <= 4 {
		return s[:i+1] + "****"
	}
	return "****"
}

// Statuses describes the profiles o names (Profiles): one, or every
// stored one with --all or when none is chosen and several are stored
// (asList). Nothing stored is "not logged in" (exit code 4).
func Statuses(e Env, o Options, show bool) (out []Status, asList bool, err error) {
	if err := o.Check(); err != nil {
		return nil, false, err
	}
	cfg, st, err := Local(e, o)
	if err != nil {
		return nil, false, err
	}
	profiles, err := Profiles(e, cfg, st, o)
	if err != nil {
		return nil, false, err
	}
	if len(profiles) == 0 {
		return nil, false, ErrNotLoggedIn
	}
	now := e.now()
	cur, _ := Current(e) // a broken file was said by Profiles when it mattered
	var refusal *tokenhelper.RefusalRecord
	if dir, err := store.StateDir(e.getenv); err == nil {
		refusal = tokenhelper.LastRefusal(dir)
	}
	for _, p := range profiles {
		s := Describe(st, p, now, show)
		s.Current = p == cur
		if refusal != nil && (refusal.Profile == "" || refusal.Profile == p) {
			s.TokenHelperRefusal = refusal
		}
		out = append(out, s)
	}
	return out, o.All || len(profiles) > 1, nil
}
