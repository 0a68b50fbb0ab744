package teststack

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestHydraTakesConcurrentSignInsAndRefreshes: sign-ins and refreshes of
// several users at the same moment all succeed, as at a real provider
// (oneAtATime), so that tests running at once need not take turns.
func TestHydraTakesConcurrentSignInsAndRefreshes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const n = 8
	for i := range n {
		name := fmt.Sprintf("concurrent-%d", i)
		stack.Hydra.AddUser(User{Username: name, Password: name + "-pw", UPN: name, Roles: []string{"alice-ci-users"}})
	}
	// round runs do for every user at once.
	round := func(what string, do func(i int) error) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = do(i) }()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("%s of user %d of %d at once: %v", what, i, n, err)
			}
		}
	}
	refresh := make([]string, n)
	round("sign-in", func(i int) error {
		name := fmt.Sprintf("concurrent-%d", i)
		tok, err := stack.Hydra.Login(ctx, stack.Hydra.ClientID, name, name+"-pw")
		if err == nil {
			refresh[i] = tok.RefreshToken
		}
		return err
	})
	if t.Failed() {
		return
	}
	for r := range 3 {
		round(fmt.Sprintf("refresh %d", r+1), func(i int) error {
			tok, err := stack.Hydra.Refresh(ctx, stack.Hydra.ClientID, refresh[i])
			if err == nil {
				refresh[i] = tok.RefreshToken
			}
			return err
		})
	}
}
