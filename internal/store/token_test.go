package store

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/secret"
)

func TestTokenCappedBy(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	for _, tc := range []struct {
		name             string
		tok, parent      *Token
		wantExp, wantMax time.Time
		wantNil          bool
	}{
		{
			name:    "lease longer than the vault token (nomad engine default 768h)",
			tok:     &Token{Secret: secret.New("n"), ExpiresAt: at(768 * time.Hour)},
			parent:  &Token{Secret: secret.New("v"), ExpiresAt: at(time.Hour), MaxExpiresAt: at(8 * time.Hour)},
			wantExp: at(time.Hour), wantMax: at(8 * time.Hour),
		},
		{
			name:    "lease shorter than the vault token: unchanged",
			tok:     &Token{Secret: secret.New("n"), ExpiresAt: at(10 * time.Minute), MaxExpiresAt: at(20 * time.Minute)},
			parent:  &Token{Secret: secret.New("v"), ExpiresAt: at(time.Hour), MaxExpiresAt: at(8 * time.Hour)},
			wantExp: at(10 * time.Minute), wantMax: at(20 * time.Minute),
		},
		{
			name:    "lease max beyond the vault token's max",
			tok:     &Token{Secret: secret.New("n"), ExpiresAt: at(time.Hour), MaxExpiresAt: at(32 * 24 * time.Hour)},
			parent:  &Token{Secret: secret.New("v"), ExpiresAt: at(2 * time.Hour), MaxExpiresAt: at(8 * time.Hour)},
			wantExp: at(time.Hour), wantMax: at(8 * time.Hour),
		},
		{
			name:    "non-expiring lease takes the vault token's expiry",
			tok:     &Token{Secret: secret.New("n")},
			parent:  &Token{Secret: secret.New("v"), ExpiresAt: at(time.Hour)},
			wantExp: at(time.Hour),
		},
		{
			name:    "vault token's max unknown: lease max kept",
			tok:     &Token{Secret: secret.New("n"), ExpiresAt: at(2 * time.Hour), MaxExpiresAt: at(3 * time.Hour)},
			parent:  &Token{Secret: secret.New("v"), ExpiresAt: at(time.Hour)},
			wantExp: at(time.Hour), wantMax: at(3 * time.Hour),
		},
		{
			name:    "no parent: unchanged",
			tok:     &Token{Secret: secret.New("n"), ExpiresAt: at(768 * time.Hour)},
			wantExp: at(768 * time.Hour),
		},
		{name: "no token", parent: &Token{Secret: secret.New("v"), ExpiresAt: at(time.Hour)}, wantNil: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before Token
			if tc.tok != nil {
				before = *tc.tok
			}
			got := tc.tok.CappedBy(tc.parent)
			if tc.wantNil {
				if got != nil {
					t.Fatalf("got %+v, want nil", got)
				}
				return
			}
			if !got.ExpiresAt.Equal(tc.wantExp) || !got.MaxExpiresAt.Equal(tc.wantMax) {
				t.Errorf("ExpiresAt, MaxExpiresAt = %v, %v; want %v, %v", got.ExpiresAt, got.MaxExpiresAt, tc.wantExp, tc.wantMax)
			}
			if !got.Secret.Equal(tc.tok.Secret) {
				t.Errorf("secret changed")
			}
			if diff := cmp.Diff(before, *tc.tok, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
				t.Errorf("the token itself was changed (-before +after):\n%s", diff)
			}
		})
	}
}

// A kind names its server the same way in messages and on the wire: the
// token of each kind goes in its own server's header, never another's.
func TestKindNamesItsServerAndHeader(t *testing.T) {
	want := map[Kind][2]string{
		Vault:  {"Vault", "X-Vault-Token"},
		Nomad:  {"Nomad", "X-Nomad-Token"},
		Consul: {"Consul", "X-Consul-Token"},
	}
	for _, k := range Kinds {
		got := [2]string{k.Title(), k.Server().TokenHeader()}
		if got != want[k] {
			t.Errorf("%s: title and header %q, want %q", k, got, want[k])
		}
	}
	if got := Kind("boundary").Title(); got != "boundary" {
		t.Errorf("an unknown kind's title is %q, want its own word", got)
	}
}
