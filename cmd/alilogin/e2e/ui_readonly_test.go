package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/agent"
	"github.com/alisw/alilogin/internal/teststack"
)

// TestUIConsulReadOnlyRefusal: with a read-only profile (agent {
// read_only = true }), Consul's UI in Chromium creates a KV key through
// its own form; the agent refuses the write (its audit log says so), the
// key is not written at Consul, and the page shows that the save failed.
func TestUIConsulReadOnlyRefusal(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	au := newAgentUser(t, ctx)
	au.writeConfig(t, "profile \""+au.m.profile+"\" {\n  agent {\n    read_only = true\n  }\n}\n")
	link := uiLink(t, au, "consul")
	b := uiBrowser(t)
	sess := uiOpen(t, ctx, b, link)

	if err := b.Open(ctx, sess.String()+"/ui/dc1/kv/create"); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitVisible(ctx, `input[name="additional"]`); err != nil {
		text, _ := b.Text(ctx)
		t.Fatalf("%v; the page shows:\n%s", err, text)
	}
	if err := b.Type(ctx, `input[name="additional"]`, "ui-ro/blocked"); err != nil {
		t.Fatal(err)
	}
	if err := b.Type(ctx, `textarea[name="value"]`, "should-not-be-written"); err != nil {
		t.Fatal(err)
	}
	if err := b.Click(ctx, `button[type="submit"]`); err != nil {
		t.Fatal(err)
	}
	refused := waitAudit(t, ctx, au, "the UI's KV write refused by the agent", func(e agent.Event) bool {
		return e.Method == "PUT" && strings.HasPrefix(e.Path, "/v1/kv/ui-ro/blocked") && e.Refused != ""
	})
	if !strings.Contains(refused.Refused, "read-only") {
		t.Errorf("the agent's refusal does not say read-only: %q", refused.Refused)
	}
	var text string
	err := teststack.WaitUntil(ctx, "the UI showing the failed save", func() bool {
		text, _ = b.Text(ctx)
		return strings.Contains(text, "could not be saved") || strings.Contains(text, "failed") || strings.Contains(text, "read-only")
	})
	t.Logf("the page after the refused save:\n%s", text)
	screenshot(t, ctx, b, "consul-ui-read-only.png")
	if err != nil {
		t.Error(err)
	}
	var got []any
	if err := au.m.consul.Client().Do(ctx, "GET", "/v1/kv/ui-ro/blocked", nil, &got); err == nil {
		t.Errorf("the refused write reached Consul: %v", got)
	}
}
