package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/teststack"
)

// callback sends a request to the callback of a running login.
func callback(t *testing.T, p *proc, query url.Values) (int, string) {
	t.Helper()
	u, err := url.Parse(p.waitLine(t, urlLine, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(u.Query().Get("redirect_uri") + "?" + query.Encode())
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var sb strings.Builder
	b := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(b)
		sb.Write(b[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, sb.String()
}

func stateOf(t *testing.T, p *proc) string {
	u, err := url.Parse(p.waitLine(t, urlLine, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("state")
}

func TestCallbackAttacks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	profile := newProfile(t, ctx, "atk-users")
	name, pw := newUserAccount("atk-users")

	// A forged or missing state: TestCallbackWrongStateDuringLogin (the
	// login keeps waiting).
	t.Run("replayed code", func(t *testing.T) {
		// A first login, whose code the browser saw.
		u1 := newUser(t)
		p1 := u1.start(t, "login", "--no-browser", "--listen", "127.0.0.1:0", "--profile", profile)
		authURL := p1.waitLine(t, urlLine, time.Minute)
		b, err := teststack.NewBrowser()
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		au, _ := url.Parse(authURL)
		if _, err := b.Login(ctx, authURL, name, pw, au.Query().Get("redirect_uri")); err != nil {
			t.Fatal(err)
		}
		seen, _ := b.URL(ctx)
		if code, _ := p1.wait(time.Minute); code != 0 {
			t.Fatalf("first login: exit %d\n%s", code, p1.stderr.String())
		}
		su, _ := url.Parse(seen)
		oldCode := su.Query().Get("code")
		if oldCode == "" {
			t.Fatalf("no code in %s", seen)
		}
		// Replayed into a second login, with that login's own state.
		u2 := newUser(t)
		other := newProfile(t, ctx, "atk-users")
		p2 := u2.start(t, "login", "--no-browser", "--listen", "127.0.0.1:0", "--profile", other)
		callback(t, p2, url.Values{"code": {oldCode}, "state": {stateOf(t, p2)}})
		if code, _ := p2.wait(time.Minute); code != 1 || !strings.Contains(p2.stderr.String(), "refused the authorization code") {
			t.Errorf("exit %d; stderr:\n%s", code, p2.stderr.String())
		}
		notStored(t, u2, other)
		// And the finished first login takes no more callbacks.
		if code, _ := callback(t, p1, su.Query()); code != 0 {
			t.Errorf("the first login's callback still answers: %d", code)
		}
	})
}
