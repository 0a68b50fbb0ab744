package session

import (
	"context"
	"slices"

	"github.com/alisw/alilogin/internal/envcontract"
	"github.com/alisw/alilogin/internal/store"
)

// Handout brings the tokens of o.Kinds (every kind the record holds when
// empty) to validity (Ensure, with the certificate's files in force), the
// Vault token too when vault is set (exec --secret reads with it: one
// pass of the chain for both), and returns what env, exec and the hook
// hand a program for o.Kinds (envcontract.FromRecord with the session's
// configuration), and the record.
func (s *Session) Handout(ctx context.Context, o EnsureOptions, vault bool) (envcontract.Handout, *store.Record, error) {
	kinds := o.Kinds
	if vault && len(kinds) > 0 && !slices.Contains(kinds, store.Vault) {
		o.Kinds = append(slices.Clip(kinds), store.Vault)
	}
	o.CertFiles = true
	rec, got, err := s.Ensure(ctx, o)
	if err != nil {
		return envcontract.Handout{}, nil, err
	}
	if len(kinds) == 0 {
		kinds = got
	}
	return envcontract.FromRecord(s.Config, rec, kinds), rec, nil
}
