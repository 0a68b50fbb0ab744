package session

import (
	"github.com/alisw/alilogin/internal/envcontract"
	"github.com/alisw/alilogin/internal/renew"
	"github.com/alisw/alilogin/internal/store"
)

// Handout is what env, exec and the hook hand a program for the record's
// tokens of kinds: each with its configured server (envcontract.FromRecord),
// to be turned into variables by the one contract (Vars, Child).
func (s *Session) Handout(rec *store.Record, kinds []renew.Kind) envcontract.Handout {
	servers := make([]envcontract.Server, len(kinds))
	for i, k := range kinds {
		servers[i] = envcontract.Server(k)
	}
	return envcontract.FromRecord(s.Config, rec, servers)
}
