package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/issue"
	"github.com/alisw/alilogin/internal/oidc"
	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

// loginSummary is what login reports; it holds no secret.
type loginSummary struct {
	User    string                   `json:"user"`
	Name    string                   `json:"name,omitempty"`
	Email   string                   `json:"email,omitempty"`
	Roles   []string                 `json:"roles"`
	Profile string                   `json:"profile"`
	Issuer  string                   `json:"issuer"`
	Tokens  map[string]*tokenSummary `json:"tokens"`
	Errors  map[string]string        `json:"errors,omitempty"`
	// Skipped: tokens not minted because no address of their server is
	// configured (a token with none would go to the CLI's default).
	Skipped map[string]string `json:"skipped,omitempty"`
}

type tokenSummary struct {
	Accessor  string    `json:"accessor,omitempty"`
	LeaseID   string    `json:"lease_id,omitempty"`
	Policies  []string  `json:"policies"`
	Renewable bool      `json:"renewable"`
	ExpiresAt time.Time `json:"expires_at"`
}

func summarise(t *store.Token) *tokenSummary {
	if t == nil {
		return nil
	}
	p := t.Policies
	if p == nil {
		p = []string{}
	}
	return &tokenSummary{Accessor: t.Accessor, LeaseID: t.LeaseID, Policies: p, Renewable: t.Renewable, ExpiresAt: t.ExpiresAt.UTC()}
}

func newLoginSummary(r *store.Record, id *oidc.Identity, m *issue.Minted) *loginSummary {
	s := &loginSummary{User: r.User, Name: id.Name, Email: id.Email, Roles: r.Roles, Profile: r.Profile, Issuer: r.Issuer,
		Tokens: map[string]*tokenSummary{"vault": summarise(r.Vault)}}
	if s.Roles == nil {
		s.Roles = []string{}
	}
	add := func(name string, t *store.Token, err error) {
		if t != nil {
			s.Tokens[name] = summarise(t)
		}
		if err != nil {
			if s.Errors == nil {
				s.Errors = map[string]string{}
			}
			s.Errors[name] = err.Error()
		}
	}
	add("nomad", m.Nomad, m.NomadErr)
	add("consul", m.Consul, m.ConsulErr)
	return s
}

// write prints the summary for a person. The user, name, roles and
// policies are the SSO's and Vault's text: cleaned for the terminal.
func (s *loginSummary) write(w io.Writer, now time.Time) {
	who := termtext.Clean(s.User)
	if s.Name != "" {
		who += " (" + termtext.Clean(s.Name) + ")"
	}
	roles := "none"
	if len(s.Roles) > 0 {
		roles = strings.Join(termtext.CleanAll(s.Roles), ", ")
	}
	fmt.Fprintf(w, "Logged in as %s\n  roles:   %s\n  profile: %s\n", who, roles, s.Profile)
	for _, name := range []string{"vault", "nomad", "consul"} {
		t := s.Tokens[name]
		switch {
		case t != nil:
			fmt.Fprintf(w, "  %-7s valid for %-9s policies: %s\n", name+":", session.TTL(t.ExpiresAt, now), strings.Join(termtext.CleanAll(t.Policies), ", "))
		case s.Errors[name] != "":
			fmt.Fprintf(w, "  %-7s FAILED\n", name+":")
		case s.Skipped[name] != "":
			fmt.Fprintf(w, "  %-7s none: %s\n", name+":", s.Skipped[name])
		}
	}
}
