package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/agent"
	"github.com/alisw/alilogin/internal/teststack"
)

// uiControls is what the page offers: the visible text of its links and
// buttons, with "(disabled)" after a disabled one.
const uiControls = `Array.from(document.querySelectorAll("a, button")).filter(e => e.offsetParent !== null).map(e => {
  const t = (e.innerText || "").trim();
  const off = e.disabled || e.getAttribute("disabled") !== null || e.getAttribute("aria-disabled") === "true" || e.classList.contains("is-disabled");
  return off ? t + " (disabled)" : t;
}).filter(t => t !== "")`

// offers: controls (from uiControls) has an enabled one labelled label.
func offers(controls []string, label string) bool {
	for _, c := range controls {
		if c == label {
			return true
		}
	}
	return false
}

// waitControls waits until the page's controls satisfy ok, and returns them.
func waitControls(t *testing.T, ctx context.Context, b *teststack.Browser, what string, ok func([]string) bool) []string {
	t.Helper()
	var controls []string
	err := teststack.WaitUntil(ctx, what, func() bool {
		controls = nil
		return b.EvalJSON(ctx, uiControls, &controls) == nil && ok(controls)
	})
	if err != nil {
		t.Fatalf("%v; the page offers %q", err, controls)
	}
	return controls
}

// consulAuthorize is what the Consul UI asks before it offers a write:
// may the session read keys, and write them.
const consulAuthorize = `fetch("/v1/internal/acl/authorize", {method: "POST", body: JSON.stringify([{Resource: "key", Access: "read"}, {Resource: "key", Access: "write"}])}).then(r => r.json()).then(l => l.map(e => e.Access + ":" + e.Allow))`

// TestUIReadOnlyProfile: a profile that is read-only through the agent
// looks read-only in the web UIs where the UI asks for its rights, and a
// write its page sends anyway is refused with the agent's text. Nomad's
// job list enables Run Job for a writable profile and not for a
// read-only one (the agent shows the UI a client token whose policies
// only read). Consul's UI, asking /v1/internal/acl/authorize from the
// session's page, is told that keys may be written for a writable
// profile and not for a read-only one (Consul 1.16's KV pages offer
// Create and Save whatever the rights: abilities/kv.js); a KV write sent
// from the read-only session's page gets the agent's 403 "read-only"
// text and never reaches Consul.
func TestUIReadOnlyProfile(t *testing.T) {
	t.Parallel() // two agent users with their own Nomad and Consul each
	rw, ctx := newAgentUserFor(t, 6*time.Minute)
	ro := newAgentUser(t, ctx)
	ro.writeConfig(t, "profile \""+ro.m.profile+"\" {\n  agent {\n    read_only = true\n  }\n}\n")

	// uiPage opens au's UI of kind in a browser of its own, at path, and
	// waits for text.
	uiPage := func(au *agentUser, kind, path, text string) *teststack.Browser {
		b := uiBrowser(t)
		origin := uiOpen(t, ctx, b, uiLink(t, au, kind)).String()
		if err := b.Open(ctx, origin+path); err != nil {
			t.Fatal(err)
		}
		if _, err := b.WaitText(ctx, text); err != nil {
			t.Fatal(err)
		}
		return b
	}
	consulKV := func(au *agentUser) *teststack.Browser { return uiPage(au, "consul", "/ui/dc1/kv/", "Key / Value") }
	nomadJobs := func(au *agentUser) *teststack.Browser { return uiPage(au, "nomad", "/ui/jobs", "Jobs") }
	authorize := func(b *teststack.Browser) []string {
		var got []string
		if err := b.EvalJSON(ctx, consulAuthorize, &got); err != nil {
			t.Fatal(err)
		}
		return got
	}

	// Writable: Consul answers that keys may be written, Nomad enables
	// Run Job.
	b := consulKV(rw)
	if got := authorize(b); !slices.Equal(got, []string{"read:true", "write:true"}) {
		t.Errorf("the Consul UI of a writable profile is told %q; want read:true write:true", got)
	}
	b = nomadJobs(rw)
	waitControls(t, ctx, b, "Run Job enabled on the job list of a writable profile", func(c []string) bool { return offers(c, "Run Job") })

	// Read-only: keys may be read, not written.
	b = consulKV(ro)
	if got := authorize(b); !slices.Equal(got, []string{"read:true", "write:false"}) {
		t.Errorf("the Consul UI of a read-only profile is told %q; want read:true write:false", got)
	}

	// A write sent anyway: the agent's refusal, and nothing at Consul.
	var got struct {
		Status int
		Text   string
	}
	if err := b.EvalJSON(ctx, `fetch("/v1/kv/ui-ro/written", {method: "PUT", body: "x"}).then(async r => ({Status: r.status, Text: await r.text()}))`, &got); err != nil {
		t.Fatal(err)
	}
	if got.Status != 403 || !strings.Contains(got.Text, "alilogin agent: refused: PUT /v1/kv/ui-ro/written is not in the read-only routes of consul") {
		t.Errorf("a KV write from the read-only session's page: %d %q; want 403 and the agent's read-only refusal", got.Status, got.Text)
	}
	var kv []any
	if err := ro.m.consul.Client().Do(ctx, "GET", "/v1/kv/ui-ro/written", nil, &kv); err == nil {
		t.Errorf("the refused write reached Consul: %v", kv)
	}

	// Nomad: the UI read the token and its policies (rewritten by the
	// agent) before it drew the job list; Run Job is not enabled.
	b = nomadJobs(ro)
	waitAudit(t, ctx, ro, "the Nomad UI's policy lookup", func(e agent.Event) bool {
		return e.Server == agent.Nomad && e.Method == "GET" && strings.HasPrefix(e.Path, "/v1/acl/policy/") && e.Status == 200
	})
	c := waitControls(t, ctx, b, "the job list's controls", func(c []string) bool { return offers(c, "Run Job (disabled)") || len(c) > 0 })
	if offers(c, "Run Job") {
		t.Errorf("the job list of a read-only profile enables Run Job: %q", c)
	}
	t.Logf("the job list of a read-only profile offers %q", c)
	screenshot(t, ctx, b, "nomad-ui-read-only.png")
}
