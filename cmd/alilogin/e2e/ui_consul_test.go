package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/agent"
	"github.com/alisw/alilogin/internal/teststack"
)

// TestUIConsul: Chromium opens the one-time link of `alilogin ui consul
// --print` and, through the agent, against a Consul that requires client
// certificates, Consul's UI shows a KV key the test wrote and its value;
// the session cookie is the Consul UI host's only (not sent to the Nomad
// UI's host), and the browser's storage holds no real token.
func TestUIConsul(t *testing.T) {
	au, ctx := newAgentUserFor(t, 4*time.Minute)
	if p := au.exec(t, "consul", "kv", "put", "ui-test/greeting", "consul-value-in-the-ui"); p.code() != 0 {
		t.Fatalf("consul kv put: exit %d\n%s\n%s", p.code(), p.stdout.String(), p.stderr.String())
	}
	link := uiLink(t, au, "consul")
	b := uiBrowser(t)
	sess := uiOpen(t, ctx, b, link)
	origin := sess.String()

	// The key in the KV list, then its value.
	if err := b.Open(ctx, origin+"/ui/dc1/kv/ui-test/"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.WaitText(ctx, "greeting"); err != nil {
		t.Fatal(err)
	}
	if err := b.Open(ctx, origin+"/ui/dc1/kv/ui-test/greeting/edit"); err != nil {
		t.Fatal(err)
	}
	var value string
	err := teststack.WaitUntil(ctx, "the key's value in the editor", func() bool {
		return b.EvalJSON(ctx, `Array.from(document.querySelectorAll("textarea, .CodeMirror-code")).map(e => e.value || e.innerText).join("\n")`, &value) == nil &&
			strings.Contains(value, "consul-value-in-the-ui")
	})
	if err != nil {
		t.Fatalf("%v; the editor holds %q", err, value)
	}
	screenshot(t, ctx, b, "consul-ui-kv.png")
	uiNoSecretInBrowser(t, ctx, au, b, origin)

	// The Consul UI's cookie is for its own host name only: the Nomad
	// UI's host (same port) is not signed in.
	c := sessionCookie(t, ctx, b, sess.Hostname())
	if c == "" {
		t.Fatal("no session cookie")
	}
	nomadUI := "http://" + agent.UIHost(agent.Nomad, strings.TrimPrefix(au.gates(t)["NOMAD_ADDR"], "http://"))
	if err := b.Open(ctx, nomadUI+"/ui/jobs"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.WaitText(ctx, "run: alilogin ui nomad"); err != nil {
		t.Error(err)
	}
}
