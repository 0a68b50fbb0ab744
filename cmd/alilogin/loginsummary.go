package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

// loginSummary is what login reports; it holds no secret.
type loginSummary struct {
	User    string   `json:"user"`
	Name    string   `json:"name,omitempty"`
	Email   string   `json:"email,omitempty"`
	Roles   []string `json:"roles"`
	Profile string   `json:"profile"`
	Issuer  string   `json:"issuer"`
	// Tokens have the shape of status --json's (session.TokenStatus),
	// the token itself masked.
	Tokens map[string]session.TokenStatus `json:"tokens"`
	Errors map[string]string              `json:"errors,omitempty"`
	// Skipped: tokens not minted because no address of their server is
	// configured (a token with none would go to the CLI's default).
	Skipped map[string]string `json:"skipped,omitempty"`
	// Unchecked: tokens minted and kept that their server did not
	// answer for (issue.CheckError): why.
	Unchecked map[string]string `json:"unchecked,omitempty"`
}

// newLoginSummary describes the login out made at now with the sign-in in.
func newLoginSummary(out *session.LoginResult, in *session.SignedIn, now time.Time) *loginSummary {
	r, id, m := out.Record, in.Identity, out.Minted
	s := &loginSummary{User: r.User, Name: id.Name, Email: id.Email, Roles: r.Roles, Profile: r.Profile, Issuer: r.Issuer,
		Tokens: map[string]session.TokenStatus{}}
	if s.Roles == nil {
		s.Roles = []string{}
	}
	add := func(name string, t *store.Token, err, check error) {
		if t != nil {
			s.Tokens[name] = session.DescribeToken(t, now, false)
		}
		if t != nil && check != nil {
			if s.Unchecked == nil {
				s.Unchecked = map[string]string{}
			}
			s.Unchecked[name] = check.Error()
		}
		if err != nil {
			if s.Errors == nil {
				s.Errors = map[string]string{}
			}
			s.Errors[name] = err.Error()
		}
	}
	add("vault", r.Vault, nil, nil)
	add("nomad", m.Nomad, m.NomadErr, m.NomadCheck)
	add("consul", m.Consul, m.ConsulErr, m.ConsulCheck)
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
		t, ok := s.Tokens[name]
		switch {
		case ok && s.Unchecked[name] != "":
			fmt.Fprintf(w, "  %-7s valid for %-9s NOT CHECKED: its server did not answer (below)\n", name+":", session.TTL(t.ExpiresAt, now))
		case ok:
			fmt.Fprintf(w, "  %-7s valid for %-9s policies: %s\n", name+":", session.TTL(t.ExpiresAt, now), strings.Join(termtext.CleanAll(t.Policies), ", "))
		case s.Errors[name] != "":
			fmt.Fprintf(w, "  %-7s FAILED\n", name+":")
		case s.Skipped[name] != "":
			fmt.Fprintf(w, "  %-7s none: %s\n", name+":", s.Skipped[name])
		}
	}
}

// loggedInAt is where a login got its tokens: Vault, or, without a Vault
// token, the direct login at Nomad and Consul.
func loggedInAt(out *session.LoginResult) string {
	if out.Record.Vault == nil {
		return "directly at Nomad or Consul (Vault could not issue tokens)"
	}
	return "to Vault"
}
