package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/teststack"
)

// notStored fails when the profile has a record in any store.
func notStored(t *testing.T, u *user, profile string) {
	t.Helper()
	st, err := store.Open("", u.getenv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(profile); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("profile %s: stored after a failed login (%v)", profile, err)
	}
}

func TestRoleRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	profile := newProfile(t, ctx, "ci-admins")
	name, pw := newUserAccount("some-egroup", "another-egroup")
	u := newUser(t)
	u.writeConfig(t, fmt.Sprintf("profile %q {\n  roles = [\"ci-admins\"]\n}\n", profile))

	p, _ := login(t, ctx, u, name, pw, "--profile", profile)
	if p.code() != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", p.code(), p.stderr.String())
	}
	t.Logf("stderr:\n%s", p.stderr.String())
	for _, want := range []string{"Vault refused the login to profile " + fmt.Sprintf("%q", profile), "Your SSO roles: some-egroup, another-egroup", "requires one of: ci-admins"} {
		if !strings.Contains(p.stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, p.stderr.String())
		}
	}
	notStored(t, u, profile)
}

func TestProfileChoice(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a := newProfile(t, ctx, "team-a")
	b := newProfile(t, ctx, "team-b")
	cfg := fmt.Sprintf("profile %q {\n  roles = [\"team-a\"]\n}\nprofile %q {\n  roles = [\"team-b\"]\n}\n", a, b)

	t.Run("only allowed profile", func(t *testing.T) {
		name, pw := newUserAccount("team-b")
		u := newUser(t)
		u.writeConfig(t, cfg)
		p := loginOK(t, ctx, u, name, pw, "login", "--json")
		var sum summary
		if err := json.Unmarshal([]byte(p.stdout.String()), &sum); err != nil || sum.Profile != b {
			t.Fatalf("profile %q, want %q (%v)", sum.Profile, b, err)
		}
		u.deleteAtEnd(t, b)
	})
	t.Run("two allowed profiles", func(t *testing.T) {
		name, pw := newUserAccount("team-a", "team-b")
		u := newUser(t)
		u.writeConfig(t, cfg)
		dropPendingAtEnd(t, u)
		p, _ := login(t, ctx, u, name, pw)
		if p.code() != 2 {
			t.Fatalf("exit %d, want 2; stderr:\n%s", p.code(), p.stderr.String())
		}
		if want := "your roles allow several profiles: " + a + ", " + b; !strings.Contains(p.stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, p.stderr.String())
		}
		notStored(t, u, a)
		notStored(t, u, b)
	})
	t.Run("default profile", func(t *testing.T) {
		name, pw := newUserAccount("team-a", "team-b")
		u := newUser(t)
		u.writeConfig(t, cfg+fmt.Sprintf("default_profile = %q\n", a))
		p, _ := login(t, ctx, u, name, pw, "--json")
		var sum summary
		if err := json.Unmarshal([]byte(p.stdout.String()), &sum); err != nil || sum.Profile != a {
			t.Fatalf("profile %q, want %q (%v); stderr:\n%s", sum.Profile, a, err, p.stderr.String())
		}
		u.deleteAtEnd(t, a)
	})
}

func TestRolesClaimJSONPointer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pointer := "/resource_access/" + stack.Hydra.ClientID + "/roles"
	profile := "pointer-" + fmt.Sprint(time.Now().UnixNano()%1000000)
	if err := stack.SetupProfile(ctx, nil, teststack.ProfileSpec{Name: profile, Roles: []string{"nested-role"}, RolesClaim: pointer, NomadRules: readJobs, ConsulRules: readKV}); err != nil {
		t.Fatal(err)
	}
	name, pw := newUserAccount("nested-role")
	u := newUser(t)
	u.env["ALILOGIN_ROLES_CLAIM"] = pointer
	u.writeConfig(t, fmt.Sprintf("profile %q {\n  roles = [\"nested-role\"]\n}\n", profile))
	p := loginOK(t, ctx, u, name, pw, "login", "--json")
	var sum summary
	if err := json.Unmarshal([]byte(p.stdout.String()), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Profile != profile || len(sum.Roles) != 1 || sum.Roles[0] != "nested-role" {
		t.Errorf("summary %+v", sum)
	}
	u.deleteAtEnd(t, profile)
}
