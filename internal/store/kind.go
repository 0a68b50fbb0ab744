package store

import (
	"fmt"
	"time"
)

// Kind names one of a record's tokens: the Vault token, and the Nomad and
// Consul tokens minted with it at Vault's secrets engines. Its value is
// the word `--for` takes.
type Kind string

// The kinds of token a record holds.
const (
	Vault  Kind = "vault"
	Nomad  Kind = "nomad"
	Consul Kind = "consul"
)

// Kinds is every kind, in display order.
var Kinds = []Kind{Vault, Nomad, Consul}

// ParseKind checks a --for value.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown token kind %q: want vault, nomad or consul", s)
}

// Title is the name of the kind's server in messages: "Vault", "Nomad",
// "Consul".
func (k Kind) Title() string {
	switch k {
	case Vault:
		return "Vault"
	case Nomad:
		return "Nomad"
	case Consul:
		return "Consul"
	}
	return string(k)
}

// Token is the record's token of kind k (nil when absent, or r nil).
func (r *Record) Token(k Kind) *Token {
	if r == nil {
		return nil
	}
	switch k {
	case Vault:
		return r.Vault
	case Nomad:
		return r.Nomad
	case Consul:
		return r.Consul
	}
	return nil
}

// SetToken replaces the record's token of kind k.
func (r *Record) SetToken(k Kind, t *Token) {
	switch k {
	case Vault:
		r.Vault = t
	case Nomad:
		r.Nomad = t
	case Consul:
		r.Consul = t
	}
}

// Kinds are the kinds the record holds: Vault always, Nomad and Consul
// when it has their token.
func (r *Record) Kinds() []Kind {
	out := []Kind{Vault}
	if r.Nomad != nil {
		out = append(out, Nomad)
	}
	if r.Consul != nil {
		out = append(out, Consul)
	}
	return out
}

// EarliestExpiry is when the first of the record's tokens of kinds
// expires (zero when it holds none of them).
func (r *Record) EarliestExpiry(kinds ...Kind) time.Time {
	var e time.Time
	for _, k := range kinds {
		if t := r.Token(k); t != nil && (e.IsZero() || t.ExpiresAt.Before(e)) {
			e = t.ExpiresAt
		}
	}
	return e
}
