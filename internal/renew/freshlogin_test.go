package renew

import (
	"context"
	"errors"
	"testing"

	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/google/go-cmp/cmp"
)

// TestLoginKeep: a fresh login kept by Keep revokes the login Keep
// replaced before letting go of the lock; one that Keep could not keep
// revokes its own Vault token, and with it what was minted.
func TestLoginKeep(t *testing.T) {
	t.Run("kept", func(t *testing.T) {
		e, _ := setup(t)
		old := &store.Record{Profile: "ci"}
		var order []string
		out, err := Login(context.Background(), e.vault, e.clk.now, FreshLogin{Profile: "ci", IDToken: secret.New("good-id-token"), Kinds: []store.Kind{store.Nomad, store.Consul},
			Keep: func(v *store.Token, m []Minted) (*store.Record, func(), error) {
				order = append(order, "keep")
				return old, func() { order = append(order, "unlock") }, nil
			},
			RevokeReplaced: func(_ context.Context, r *store.Record) {
				if r != old {
					t.Errorf("RevokeReplaced got %+v, want the record Keep replaced", r)
				}
				order = append(order, "revoke replaced")
			}})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"keep", "revoke replaced", "unlock"}, order); diff != "" {
			t.Errorf("order (-want +got):\n%s", diff)
		}
		for _, m := range out.Minted {
			if m.Err != nil || !e.vault.leaseLive(m.Token.LeaseID) || m.Token.ExpiresAt.After(out.Vault.ExpiresAt) {
				t.Errorf("%s: %+v, %v; want a live lease capped by the Vault token", m.Kind, m.Token, m.Err)
			}
		}
	})
	t.Run("not kept", func(t *testing.T) {
		e, _ := setup(t)
		unlocked := 0
		keepErr := errors.New("disk full")
		out, err := Login(context.Background(), e.vault, e.clk.now, FreshLogin{Profile: "ci", IDToken: secret.New("good-id-token"), Kinds: []store.Kind{store.Nomad},
			Keep: func(*store.Token, []Minted) (*store.Record, func(), error) {
				return nil, func() { unlocked++ }, keepErr
			},
			RevokeReplaced: func(context.Context, *store.Record) {
				t.Error("a login not kept revoked the one it would have replaced")
			}})
		var nk *NotKeptError
		if !errors.As(err, &nk) || !errors.Is(err, keepErr) || nk.RevokeErr != nil {
			t.Fatalf("err = %v, want a *NotKeptError of Keep's error, revoked", err)
		}
		if e.vault.live(out.Vault.Secret) || e.vault.leaseLive(out.Minted[0].Token.LeaseID) || unlocked != 1 {
			t.Errorf("new Vault token live %v, its Nomad lease live %v, unlocked %d times; want dead, dead, 1",
				e.vault.live(out.Vault.Secret), e.vault.leaseLive(out.Minted[0].Token.LeaseID), unlocked)
		}
	})
}
