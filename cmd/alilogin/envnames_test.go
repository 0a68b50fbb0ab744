package main

import (
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/shellenv"
)

// TestEnvSkipsNamesThatAreNotIdentifiers: an inherited entry whose name
// is no shell identifier (bash passes "BAO_X-Y=1" on to its children)
// does not make `alilogin env` fail in any shell (and the hook with it):
// no CLI reads such a name, so it is not unset; BAO_ADDR still is.
func TestEnvSkipsNamesThatAreNotIdentifiers(t *testing.T) {
	cfg, rec := threeServers()
	vars := envVars(cfg, rec, allKinds, []string{"BAO_X-Y=1", "BAO_ADDR=http://evil.example", "BAO_1.2=x"})
	for _, sh := range []string{shellenv.Sh, shellenv.Fish, shellenv.PowerShell, shellenv.JSON} {
		var b strings.Builder
		if err := shellenv.Write(&b, sh, vars); err != nil {
			t.Errorf("alilogin env fails: %v", err)
		}
	}
	unset := map[string]bool{}
	for _, v := range vars {
		unset[v.Name] = v.Unset
	}
	if !unset["BAO_ADDR"] {
		t.Errorf("BAO_ADDR is not unset")
	}
}
