package oidc

import (
	"context"
	"errors"
	"testing"

	"github.com/alisw/alilogin/internal/secret"
)

func TestRefresh(t *testing.T) {
	op := newFakeOP(t)
	cfg := Config{Issuer: op.URL, ClientID: "cli", RolesClaim: "cern_roles", UserClaim: "cern_upn"}
	res, err := Refresh(context.Background(), cfg, "rt-old")
	if err != nil {
		t.Fatal(err)
	}
	if res.Identity.User != "alice" || res.RefreshToken.Empty() || res.RefreshToken == "rt-old" {
		t.Errorf("result %+v", res)
	}

	for name, rt := range map[string]secret.String{"revoked": "revoked", "none": ""} {
		t.Run(name, func(t *testing.T) {
			if _, err := Refresh(context.Background(), cfg, rt); !errors.Is(err, ErrRefreshRefused) {
				t.Errorf("err = %v, want ErrRefreshRefused", err)
			}
		})
	}
	t.Run("bad ID token", func(t *testing.T) {
		op.mint = func(op *fakeOP) string { return op.sign(op.otherKey, "RS256", op.claims()) }
		defer func() { op.mint = nil }()
		if _, err := Refresh(context.Background(), cfg, "rt"); !errors.Is(err, ErrInvalidIDToken) {
			t.Errorf("err = %v", err)
		}
	})
}
