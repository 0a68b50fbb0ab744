package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/teststack"
	"github.com/alisw/alilogin/internal/testutil"
)

func jwtRoleTTL(t *testing.T, v *apiclient.Client, name string) (int64, error) {
	t.Helper()
	var out struct {
		Data struct {
			TokenTTL int64 `json:"token_ttl"`
		} `json:"data"`
	}
	err := v.Do(context.Background(), "GET", "/v1/auth/jwt/role/"+name, nil, &out)
	return out.Data.TokenTTL, err
}

// TestServeRefusesMassDeleteOnReload: broker serve --prune does not apply a
// reloaded folder whose plan is a mass delete; it logs it, shows it in
// /metrics and /readyz, and keeps the configuration in force (its objects
// stay and drift on them is still repaired) until the folder is fixed.
func TestServeRefusesMassDeleteOnReload(t *testing.T) {
	setup(t)
	const interval = 2 * time.Second
	dir := policiesDir(t, map[string]string{})
	b := startBroker(t, "massdelete", dir, nil, "--prune", "--interval", interval.String(), "--lock-key", "test/massdelete")
	testutil.WaitFor(t, time.Minute, "the broker to lead and reconcile", func() bool {
		c, _ := b.status()
		return c == 200 && b.metric(`alilogin_broker_reconcile_runs_total{result="ok"}`) >= 1
	})
	v := stack.Vault.Client()
	if _, err := jwtRoleTTL(t, v, "ci-user"); err != nil {
		t.Fatalf("the first reconcile did not make the JWT role ci-user: %v", err)
	}
	if got := b.metric("alilogin_broker_mass_delete_held"); got != 0 {
		t.Errorf("mass_delete_held = %v at start", got)
	}

	good, err := os.ReadFile(filepath.Join(dir, "profiles.hcl"))
	must(t, err)
	writeFile(t, filepath.Join(dir, "profiles.hcl"), teststack.SoloProfiles)
	testutil.WaitFor(t, 20*time.Second, "the refusal in /metrics", func() bool {
		return b.metric("alilogin_broker_mass_delete_refused_total") >= 1 && b.metric("alilogin_broker_mass_delete_held") == 1
	})
	if !strings.Contains(b.log.String(), "its plan is a mass delete; the configuration in force stays") {
		t.Error("the refusal is not logged")
	}
	if c, st := b.status(); c != 503 || !strings.Contains(st["reconcile_error"].(string), "refusing a mass delete") {
		t.Errorf("/readyz %d %v: want 503 with the refusal", c, st)
	}

	// The configuration in force stays: ci-user's role is kept, and drift
	// on it is repaired.
	ttl, err := jwtRoleTTL(t, v, "ci-user")
	if err != nil {
		t.Fatalf("JWT role ci-user deleted: %v", err)
	}
	must(t, v.Do(context.Background(), "POST", "/v1/auth/jwt/role/ci-user", map[string]any{"role_type": "jwt", "token_ttl": "2h"}, nil))
	testutil.WaitFor(t, interval+20*time.Second, "the drift on ci-user repaired", func() bool {
		got, err := jwtRoleTTL(t, v, "ci-user")
		return err == nil && got == ttl
	})
	if err := v.Do(context.Background(), "GET", "/v1/auth/jwt/role/solo", nil, nil); err == nil {
		t.Error("the refused folder's profile was applied")
	}

	// Fixed: applied again, the gauge back to 0, ready.
	writeFile(t, filepath.Join(dir, "profiles.hcl"), string(good))
	testutil.WaitFor(t, 20*time.Second, "ready again", func() bool {
		c, _ := b.status()
		return c == 200 && b.metric("alilogin_broker_mass_delete_held") == 0
	})
	b.stop(t)
}
