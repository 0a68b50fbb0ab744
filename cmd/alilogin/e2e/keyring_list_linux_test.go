package e2e

import (
	"slices"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/alisw/alilogin/internal/store"
)

// TestKeyringListSearchesSecretService: on the real gnome-keyring, a
// profile whose item the index does not name (an index that lost it) is
// still listed, found by its attributes, so `logout --all` reaches it.
func TestKeyringListSearchesSecretService(t *testing.T) {
	if err := keyring.Set("alilogin", "profile:unindexed", "{}"); err != nil {
		t.Fatal(err)
	}
	defer keyring.Delete("alilogin", "profile:unindexed")
	l, err := store.NewKeyring(0, 0).List()
	if err != nil || !slices.Contains(l, "unindexed") {
		t.Errorf("List = %v, %v; want it to include the unindexed profile", l, err)
	}
}
