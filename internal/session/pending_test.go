package session

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/oidc"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/testutil"
)

// sent reports whether a request to s carried needle in its body.
func sent(s *hostile.OIDCProvider, path, needle string) bool {
	for _, r := range s.Requests() {
		if strings.HasPrefix(r.Path, path) && strings.Contains(string(r.Body), needle) {
			return true
		}
	}
	return false
}

// TestTakePending: the next login uses the kept sign-in only while it is
// younger than 10 minutes, for the configured issuer, client id and the
// same subject; its ID token verified again, or a new one got with its
// refresh token (at its own issuer). It is taken out of the store in
// every case, and one that is not used has its refresh token revoked at
// the issuer that made it, never sent to another.
func TestTakePending(t *testing.T) {
	ctx := context.Background()
	op := hostile.NewOIDCProvider(hostile.OIDCOptions{Claims: map[string]any{"cern_upn": "alice", "cern_roles": []string{"r"}}})
	t.Cleanup(op.Close)
	other := hostile.NewOIDCProvider(hostile.OIDCOptions{})
	t.Cleanup(other.Close)
	cfg := &config.Config{Issuer: op.Issuer, ClientID: "alilogin", UserClaim: "cern_upn", RolesClaim: "cern_roles"}
	sso, err := oidc.New(ctx, oidc.Config{Issuer: cfg.Issuer, ClientID: cfg.ClientID, UserClaim: cfg.UserClaim, RolesClaim: cfg.RolesClaim})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, tc := range []struct {
		name        string
		edit        func(p *store.Pending)
		used        bool
		refreshed   bool // a refresh grant with the kept refresh token
		revokedAt   *hostile.OIDCProvider
		neverSentTo *hostile.OIDCProvider
	}{
		{name: "fresh", edit: func(*store.Pending) {}, used: true},
		{name: "ID token no longer valid", edit: func(p *store.Pending) { p.IDToken = secret.New("expired.id.token") }, used: true, refreshed: true},
		{name: "older than 10 minutes", edit: func(p *store.Pending) { p.SignedInAt = now.Add(-11 * time.Minute) }, revokedAt: op},
		{name: "from the future", edit: func(p *store.Pending) { p.SignedInAt = now.Add(time.Minute) }, revokedAt: op},
		{name: "another client id", edit: func(p *store.Pending) { p.ClientID = "other-client" }, revokedAt: op},
		{name: "another issuer", edit: func(p *store.Pending) { p.Issuer = other.Issuer }, revokedAt: other, neverSentTo: op},
		{name: "another subject", edit: func(p *store.Pending) { p.Subject = "someone-else" }, revokedAt: op},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := "rt-" + strings.ReplaceAll(tc.name, " ", "-")
			env := testutil.Home(t, nil)
			e := Env{Getenv: func(k string) string { return env[k] }, Now: func() time.Time { return now }, Stderr: &strings.Builder{}}
			st, err := store.Open(store.KindFile, e.Getenv, nil)
			if err != nil {
				t.Fatal(err)
			}
			p := &store.Pending{Issuer: op.Issuer, ClientID: "alilogin", Subject: "hostile-subject", User: "alice",
				IDToken: secret.New(op.IDToken("")), RefreshToken: secret.New(rt), SignedInAt: now.Add(-2 * time.Minute)}
			tc.edit(p)
			ps, _ := store.PendingOf(st)
			if err := ps.PutPending(p); err != nil {
				t.Fatal(err)
			}
			got := TakePending(ctx, e, cfg, st, sso)
			if (got != nil) != tc.used {
				t.Fatalf("used = %v, want %v", got != nil, tc.used)
			}
			if got != nil && (!got.Reused || !got.At.Equal(p.SignedInAt) || got.Identity.User != "alice") {
				t.Errorf("the sign-in used: %+v", got)
			}
			if r := sent(op, "/token", rt); r != tc.refreshed {
				t.Errorf("refresh grant with the kept refresh token: %v, want %v", r, tc.refreshed)
			}
			if tc.revokedAt != nil && !sent(tc.revokedAt, "/revoke", "token="+rt) {
				t.Errorf("the refresh token was not revoked at the issuer that made it")
			}
			if tc.revokedAt == nil && (sent(op, "/revoke", rt) || sent(other, "/revoke", rt)) {
				t.Errorf("the refresh token of a sign-in used was revoked")
			}
			if tc.neverSentTo != nil && (sent(tc.neverSentTo, "/", rt)) {
				t.Errorf("the refresh token was sent to the configured issuer, which did not make it")
			}
			if _, err := ps.GetPending(); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("still kept after the login took it: %v", err)
			}
		})
	}
}

// TestKeepPending: a sign-in is kept for the next login while younger
// than 10 minutes, replacing (and revoking) an earlier one; an older one
// is revoked instead; DropPending (logout --all) revokes and removes it.
func TestKeepPending(t *testing.T) {
	ctx := context.Background()
	op := hostile.NewOIDCProvider(hostile.OIDCOptions{Claims: map[string]any{"cern_upn": "alice"}})
	t.Cleanup(op.Close)
	cfg := &config.Config{Issuer: op.Issuer, ClientID: "alilogin", UserClaim: "cern_upn", RolesClaim: "cern_roles"}
	sso, err := oidc.New(ctx, oidc.Config{Issuer: cfg.Issuer, ClientID: cfg.ClientID, UserClaim: cfg.UserClaim, RolesClaim: cfg.RolesClaim})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	env := testutil.Home(t, nil)
	e := Env{Getenv: func(k string) string { return env[k] }, Now: func() time.Time { return now }, Stderr: &strings.Builder{}}
	st, err := store.Open(store.KindFile, e.Getenv, nil)
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := store.PendingOf(st)
	signIn := func(rt string, at time.Time) *SignedIn {
		id, err := sso.Verify(ctx, op.IDToken(""), "")
		if err != nil {
			t.Fatal(err)
		}
		return &SignedIn{Result: &oidc.Result{IDToken: secret.New(op.IDToken("")), RefreshToken: secret.New(rt), Identity: id}, At: at}
	}
	if !KeepPending(ctx, e, cfg, st, sso, signIn("rt-first", now.Add(-time.Minute))) {
		t.Fatal("a fresh sign-in was not kept")
	}
	if p, err := ps.GetPending(); err != nil || p.RefreshToken.Reveal() != "rt-first" || p.Issuer != op.Issuer || p.ClientID != "alilogin" || p.User != "alice" {
		t.Fatalf("kept: %+v, %v", p, err)
	}
	if !KeepPending(ctx, e, cfg, st, sso, signIn("rt-second", now)) {
		t.Fatal("the second sign-in was not kept")
	}
	if !sent(op, "/revoke", "token=rt-first") {
		t.Error("the sign-in replaced was not revoked")
	}
	if KeepPending(ctx, e, cfg, st, sso, signIn("rt-old", now.Add(-10*time.Minute))) {
		t.Error("a sign-in of 10 minutes ago was kept")
	}
	if !sent(op, "/revoke", "token=rt-old") {
		t.Error("a sign-in too old to keep was not revoked")
	}
	if p, _ := ps.GetPending(); p == nil || p.RefreshToken.Reveal() != "rt-second" {
		t.Errorf("the kept sign-in after refusing an old one: %+v", p)
	}
	found, warnings := DropPending(ctx, e, cfg, st)
	if !found || len(warnings) > 0 || !sent(op, "/revoke", "token=rt-second") {
		t.Errorf("DropPending = %v, %v; revoked: %v", found, warnings, sent(op, "/revoke", "token=rt-second"))
	}
	if _, err := ps.GetPending(); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after DropPending: %v", err)
	}
}
