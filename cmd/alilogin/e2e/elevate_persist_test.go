package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestNoWriteAccessOutlivesTheWindow: a program of the same user that
// uses the open window (any process of the user may ask for elevated
// gates, docs/security.md) spends one use of it; once the window is
// closed, it must have no write access left at Nomad. Here the one use
// rewrites Nomad's anonymous policy (the tier's token is a management
// token), and afterwards a request with no token at all writes.
func TestNoWriteAccessOutlivesTheWindow(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	e := newElevUser(t, ctx)
	t.Cleanup(func() {
		_ = stack.Nomad.Client().Do(context.Background(), "DELETE", "/v1/acl/policy/anonymous", nil, nil)
	})
	if p := e.elevate(t, ctx); p.code() != 0 {
		t.Fatalf("elevate: exit %d\n%s", p.code(), p.stderr.String())
	}
	pol := writeTestFile(t, t.TempDir(), "anon.hcl", []byte(`namespace "*" {
  policy = "write"
  variables {
    path "*" { capabilities = ["write", "read", "list", "destroy"] }
  }
}
`))
	p := e.exec(t, true, "nomad", "acl", "policy", "apply", "anonymous", pol)
	t.Logf("the program's one elevated use: exit %d\n%s", p.code(), p.stderr.String())
	if p := e.run(t, "elevate", "--end", "--profile", e.profile); p.code() != 0 {
		t.Fatalf("elevate --end: exit %d\n%s", p.code(), p.stderr.String())
	}
	req, err := http.NewRequestWithContext(ctx, "PUT", stack.Nomad.Addr+"/v1/var/kept-after-the-window", strings.NewReader(`{"Items":{"k":"v"}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Fatalf("after the window, a request with no token wrote a Nomad variable (%d): the window's one use kept write access for good", resp.StatusCode)
	}
}
