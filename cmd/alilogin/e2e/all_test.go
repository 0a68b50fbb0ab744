package e2e

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/teststack"
	"github.com/alisw/alilogin/internal/testutil"
)

// TestAllProfiles: with two stored logins, `status --all` reports both
// (masked, exit 0) and `logout --all` revokes and deletes both. The user
// keeps its logins in the file store, so that --all sees only this test's
// profiles.
func TestAllProfiles(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	profiles := []string{
		sessionProfile(t, ctx, "1h", teststack.Mounts{}, "all-users"),
		sessionProfile(t, ctx, "1h", teststack.Mounts{}, "all-users"),
	}
	slices.Sort(profiles)
	u := sessionUser(t, profiles[0], teststack.Mounts{})
	delete(u.env, "ALILOGIN_PROFILE")
	u.env["ALILOGIN_STORE"] = "file"
	st, err := store.Open("file", u.getenv, nil)
	if err != nil {
		t.Fatal(err)
	}
	name, pw := newUserAccount("all-users")
	var recs []*store.Record
	for _, p := range profiles {
		tok := hydraLogin(t, ctx, name, pw)
		if err := st.Put(u.bound(t, &store.Record{Version: store.RecordVersion, Profile: p, User: name, Issuer: stack.Hydra.IssuerURL, ClientID: stack.Hydra.ClientID,
			Subject: name, RefreshToken: secret.New(tok.RefreshToken), UpdatedAt: time.Now()})); err != nil {
			t.Fatal(err)
		}
		u.ok(t, "env", "--profile", p, "--for", "vault,nomad,consul")
		rec, err := st.Get(p)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	var secrets []secret.String
	for _, r := range recs {
		secrets = append(secrets, r.Vault.Secret, r.Nomad.Secret, r.Consul.Secret, r.RefreshToken)
	}

	p := u.ok(t, "status", "--all", "--json")
	noLeaks(t, p, secrets...)
	var got []struct {
		Profile string `json:"profile"`
		Usable  bool   `json:"usable"`
		User    string `json:"user"`
	}
	if err := json.Unmarshal([]byte(p.stdout.String()), &got); err != nil {
		t.Fatalf("status --all --json: %v\n%s", err, p.stdout.String())
	}
	if len(got) != 2 || got[0].Profile != profiles[0] || got[1].Profile != profiles[1] || !got[0].Usable || !got[1].Usable || got[0].User != name {
		t.Errorf("status --all --json = %+v, want both of %v usable", got, profiles)
	}
	p = u.ok(t, "status", "--all")
	for _, s := range profiles {
		if !strings.Contains(p.stdout.String(), s) {
			t.Errorf("status --all lacks %s:\n%s", s, p.stdout.String())
		}
	}
	noLeaks(t, p, secrets...)

	p = u.ok(t, "logout", "--all")
	for _, s := range profiles {
		if !strings.Contains(p.stderr.String(), "logged out of profile "+s) {
			t.Errorf("logout --all did not log out of %s:\n%s", s, p.stderr.String())
		}
	}
	for _, r := range recs {
		if err := stack.Vault.Client().WithToken(r.Vault.Secret).Do(ctx, "GET", "/v1/auth/token/lookup-self", nil, nil); apiclient.StatusOf(err) != 403 {
			t.Errorf("Vault still accepts the token of %s: %v", r.Profile, err)
		}
	}
	if !testutil.Eventually(10*time.Second, func() bool {
		for _, r := range recs {
			if !gone(ctx, stack.Nomad.Client(), r.Nomad.Accessor) || !gone(ctx, stack.Consul.Client(), r.Consul.Accessor) {
				return false
			}
		}
		return true
	}) {
		t.Error("a Nomad or Consul token survived logout --all")
	}
	if l, err := st.List(); err != nil || len(l) != 0 {
		t.Errorf("stored logins after logout --all: %v, %v", l, err)
	}
	if p := u.run(t, "status", "--all"); p.code() != 4 {
		t.Errorf("status --all after logout --all: exit %d", p.code())
	}
}
