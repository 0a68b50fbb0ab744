package oidc

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/secret"
)

func TestRefresh(t *testing.T) {
	op := newFakeOP(t)
	cfg := Config{Issuer: op.URL, ClientID: "cli", RolesClaim: "cern_roles", UserClaim: "cern_upn"}
	res, err := newAndRefresh(context.Background(), cfg, secret.New("rt-old"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Identity.User != "alice" || res.RefreshToken.Empty() || res.RefreshToken.Reveal() == "rt-old" {
		t.Errorf("result %+v", res)
	}

	for name, rt := range map[string]secret.String{"revoked": secret.New("revoked"), "none": {}} {
		t.Run(name, func(t *testing.T) {
			if _, err := newAndRefresh(context.Background(), cfg, rt); !errors.Is(err, ErrRefreshRefused) {
				t.Errorf("err = %v, want ErrRefreshRefused", err)
			}
		})
	}
	t.Run("bad ID token", func(t *testing.T) {
		op.mint = func(op *fakeOP) string { return op.sign(op.otherKey, "RS256", op.claims()) }
		defer func() { op.mint = nil }()
		if _, err := newAndRefresh(context.Background(), cfg, secret.New("rt")); !errors.Is(err, ErrInvalidIDToken) {
			t.Errorf("err = %v", err)
		}
	})
}

// A provider that quotes the refresh token back in an error must not put it
// into alilogin's error message (it reaches terminals and CI logs).
func TestRefreshTokenNotInErrors(t *testing.T) {
	op := newFakeOP(t)
	cfg := Config{Issuer: op.URL, ClientID: "cli", RolesClaim: "cern_roles", UserClaim: "cern_upn"}
	const rt = "echo-ory_rt_S3cretRefreshValue"
	c, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"refresh": func() error { _, err := c.Refresh(context.Background(), secret.New(rt)); return err },
		"revoke":  func() error { return c.Revoke(context.Background(), secret.New(rt)) },
	} {
		t.Run(name, func(t *testing.T) {
			err := call()
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), "S3cretRefreshValue") {
				t.Errorf("error shows the refresh token: %v", err)
			}
			if !strings.Contains(err.Error(), secret.Redacted) {
				t.Errorf("error lost the provider's message: %v", err)
			}
		})
	}
	if err := c.Revoke(context.Background(), secret.New("rt-fine")); err != nil {
		t.Errorf("revoke: %v", err)
	}
}

// newAndRefresh is New followed by Client.Refresh.
func newAndRefresh(ctx context.Context, cfg Config, refreshToken secret.String) (*Result, error) {
	c, err := New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return c.Refresh(ctx, refreshToken)
}
