package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/agent"
	"github.com/alisw/alilogin/internal/teststack"
)

// uiLink runs `alilogin ui KIND --print` for au's profile and returns the
// one-time link it prints; it checks the ssh -L hint names the link's
// port.
func uiLink(t *testing.T, au *agentUser, kind string) *url.URL {
	t.Helper()
	p := au.ok(t, "ui", kind, "--profile", au.m.profile, "--print")
	raw := strings.TrimSpace(p.stdout.String())
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Hostname() != kind+".localhost" || u.Port() == "" {
		t.Fatalf("ui %s --print printed %q; want http://%s.localhost:PORT/...", kind, raw, kind)
	}
	if hint := "ssh -L " + u.Port() + ":127.0.0.1:" + u.Port(); !strings.Contains(p.stderr.String(), hint) {
		t.Errorf("ui %s --print: stderr has no %q:\n%s", kind, hint, p.stderr.String())
	}
	return u
}

// uiBrowser is a fresh headless Chromium, closed with the test.
func uiBrowser(t *testing.T) *teststack.Browser {
	t.Helper()
	b, err := teststack.NewBrowser()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// uiOpen opens link (a one-time link) in b and waits until the browser is
// in the UI (/ui/) at the session's own host name, which the link sends
// it to: http://KIND-LABEL.localhost:PORT, LABEL 128 random bits in
// lowercase base32. It returns that origin.
func uiOpen(t *testing.T, ctx context.Context, b *teststack.Browser, link *url.URL) *url.URL {
	t.Helper()
	if err := b.Open(ctx, link.String()); err != nil {
		t.Fatal(err)
	}
	kind := strings.TrimSuffix(link.Hostname(), ".localhost")
	session := regexp.MustCompile(`^http://` + kind + `-[a-z2-7]{26}\.localhost:` + link.Port() + `/ui/`)
	var at string
	err := teststack.WaitUntil(ctx, "the browser in the UI at the session's host name", func() bool {
		u, err := b.URL(ctx)
		at = u
		return err == nil && session.MatchString(u)
	})
	if err != nil {
		text, _ := b.Text(ctx)
		t.Fatalf("%v (at %s); the page shows:\n%s", err, at, text)
	}
	if _, err := b.WaitURL(ctx, at); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(at)
	return &url.URL{Scheme: "http", Host: u.Host}
}

// screenshot writes a PNG of b's page to $ALILOGIN_SCREENSHOT_DIR, else
// to the test's temporary directory (never into the work tree: the one
// in docs/ is copied there by hand, on purpose).
func screenshot(t *testing.T, ctx context.Context, b *teststack.Browser, name string) {
	t.Helper()
	png, err := b.Screenshot(ctx)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("ALILOGIN_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
}

// auditEvents are the lines of au's agent's audit log.
func auditEvents(t *testing.T, au *agentUser) []agent.Event {
	t.Helper()
	f, err := os.Open(filepath.Join(au.agentD, agent.AuditName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []agent.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e agent.Event
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			out = append(out, e)
		}
	}
	return out
}

// uiNoSecretInBrowser fails when the browser's cookies or the local or
// session storage of origin, read through the DevTools protocol, hold a
// secret of au's login.
func uiNoSecretInBrowser(t *testing.T, ctx context.Context, au *agentUser, b *teststack.Browser, origin string) {
	t.Helper()
	cookies, err := b.Cookies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cookies {
		au.noSecret(t, "the browser's cookie "+c.Name+" of "+c.Domain, c.Name+"="+c.Value)
	}
	for _, local := range []bool{true, false} {
		items, err := b.Storage(ctx, origin, local)
		if err != nil {
			t.Fatalf("the storage of %s: %v", origin, err)
		}
		for k, v := range items {
			au.noSecret(t, "the storage of "+origin+" ("+k+")", k+"="+v)
		}
	}
}

// waitAudit waits until au's audit log has an event for which ok holds.
func waitAudit(t *testing.T, ctx context.Context, au *agentUser, what string, ok func(agent.Event) bool) agent.Event {
	t.Helper()
	var found agent.Event
	err := teststack.WaitUntil(ctx, what, func() bool {
		for _, e := range auditEvents(t, au) {
			if ok(e) {
				found = e
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}
