package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/envcontract"
	"github.com/alisw/alilogin/internal/store"
)

// TestHelpNamesEveryRerouteVariable: the help of env (which exec's
// points to) and of the token helper names every variable of the one
// table (envcontract.Rules) that they unset or refuse: a rule added to
// the table without its line in the help fails here.
func TestHelpNamesEveryRerouteVariable(t *testing.T) {
	e, _, _ := testEnv(nil)
	for _, c := range []struct {
		cmd  string
		long string
		kind []store.Kind
	}{
		{"env", newEnvCmd(e).Long, store.Kinds},
		{"vault-token-helper", newVaultHelperCmd(e).Long, []store.Kind{store.Vault}},
	} {
		for _, r := range envcontract.Rules {
			if r.Class != envcontract.Reroute || !slices.ContainsFunc(r.Servers, func(k store.Kind) bool { return slices.Contains(c.kind, k) }) {
				continue
			}
			name := r.Name
			switch {
			case r.Prefix:
				name += "*"
			case r.UnlessCA && strings.HasSuffix(name, "_CAPATH") && c.cmd == "env":
				name = "*_CAPATH"
			}
			if !strings.Contains(strings.Join(strings.Fields(c.long), " "), name) {
				t.Errorf("the help of %s does not name %s", c.cmd, name)
			}
		}
	}
}
