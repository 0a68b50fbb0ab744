package e2e

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/agent"
	"github.com/alisw/alilogin/internal/teststack"
)

// TestUINomad: Chromium opens the one-time link of `alilogin ui nomad
// --print` and, through the agent, against a Nomad that requires client
// certificates, the Nomad UI shows the test job in the job list, its
// allocation's log lines (streamed through the agent: the node's
// HTTPAddr in the answers is the UI's own host, so the browser never
// tries the node itself), and its exec terminal runs echo in the
// allocation (the websocket, whose ws_handshake the agent drops so that
// Nomad takes the profile's token). The browser's storage holds no real
// token afterwards.
func TestUINomad(t *testing.T) {
	au, ctx := newAgentUserFor(t, 4*time.Minute)
	alloc := runAgentJob(t, ctx, au)
	link := uiLink(t, au, "nomad")
	b := uiBrowser(t)
	sess := uiOpen(t, ctx, b, link)
	origin := sess.String()

	// The job list.
	if err := b.Open(ctx, origin+"/ui/jobs"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.WaitText(ctx, "agentjob"); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, b, "nomad-ui-jobs.png")

	// The allocation's logs, through the agent.
	if err := b.Open(ctx, origin+"/ui/allocations/"+alloc+"/t/logs"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.WaitText(ctx, "line-1", "line-2"); err != nil {
		t.Fatal(err)
	}
	var httpAddr string
	if err := b.EvalJSON(ctx, `fetch("/v1/node/`+nodeOf(t, ctx, au, alloc)+`").then(r => r.json()).then(n => n.HTTPAddr)`, &httpAddr); err != nil {
		t.Fatal(err)
	}
	if httpAddr != sess.Host {
		t.Errorf("the node's HTTPAddr through the UI is %q; want the session's own host %q", httpAddr, sess.Host)
	}
	screenshot(t, ctx, b, "nomad-ui-logs.png")

	// The exec terminal: Enter runs the proposed /bin/bash, then echo.
	if err := b.Open(ctx, origin+"/ui/exec/agentjob/g/t"); err != nil {
		t.Fatal(err)
	}
	// The log stream ended with the logs page: it went through the
	// agent, with the session's profile.
	waitAudit(t, ctx, au, "the logs streamed through the agent", func(e agent.Event) bool {
		return e.Path == "/v1/client/fs/logs/"+alloc && e.Status == 200 && e.Refused == "" && e.Profile == au.m.profile
	})
	if err := waitTerminal(ctx, b, "Customize your command"); err != nil {
		t.Fatal(err)
	}
	if err := b.Type(ctx, ".xterm-helper-textarea", "\r"); err != nil {
		t.Fatal(err)
	}
	// The shell's prompt (the terminal passes keys on once the
	// websocket is open), then the command.
	if err := waitTerminalRe(ctx, b, regexp.MustCompile(`nomad alloc exec [^\n]*/bin/bash\n+\S`)); err != nil {
		t.Fatal(err)
	}
	if err := b.InsertText(ctx, ".xterm-helper-textarea", "echo ui-exec-$((6*7))"); err != nil {
		t.Fatal(err)
	}
	if err := b.Type(ctx, ".xterm-helper-textarea", "\r"); err != nil {
		t.Fatal(err)
	}
	if err := waitTerminal(ctx, b, "ui-exec-42"); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, b, "nomad-ui-exec.png")
	uiNoSecretInBrowser(t, ctx, au, b, origin)
}

// nodeOf is the node of allocation alloc.
func nodeOf(t *testing.T, ctx context.Context, au *agentUser, alloc string) string {
	t.Helper()
	var a struct{ NodeID string }
	if err := au.m.nomad.Client().Do(ctx, "GET", "/v1/allocation/"+alloc, nil, &a); err != nil || a.NodeID == "" {
		t.Fatalf("allocation %s: node %q, %v", alloc, a.NodeID, err)
	}
	return a.NodeID
}

// waitTerminal waits until the Nomad UI's exec terminal
// (window.execTerminal, an xterm.js Terminal) shows want.
func waitTerminal(ctx context.Context, b *teststack.Browser, want string) error {
	return waitTerminalRe(ctx, b, regexp.MustCompile(regexp.QuoteMeta(want)))
}

// waitTerminalRe waits until the exec terminal's text matches re.
func waitTerminalRe(ctx context.Context, b *teststack.Browser, re *regexp.Regexp) error {
	const read = `(() => { const t = window.execTerminal; if (!t) return ""; const b = t.buffer.active; let s = [];
	  for (let i = 0; i < b.length; i++) { const l = b.getLine(i); if (l) s.push(l.translateToString(true)); } return s.join("\n"); })()`
	var text string
	err := teststack.WaitUntil(ctx, fmt.Sprintf("the terminal to show %s", re), func() bool {
		return b.EvalJSON(ctx, read, &text) == nil && re.MatchString(text)
	})
	if err != nil {
		return fmt.Errorf("%w; the terminal shows:\n%s", err, text)
	}
	return nil
}
