package teststack

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/cdproto/domstorage"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
)

// The helpers of the web UI tests: scripts, waits on the page's text,
// keys, screenshots, and the browser's storage as the DevTools protocol
// shows it (what a page cannot hide from it: HttpOnly cookies too).

// EvalJSON evaluates a JavaScript expression (awaiting a promise) and
// decodes its value into out.
func (b *Browser) EvalJSON(ctx context.Context, expr string, out any) error {
	raw, err := value(ctx, b, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

// WaitText waits until the page's visible text (document.body.innerText)
// holds every one of want, and returns it.
func (b *Browser) WaitText(ctx context.Context, want ...string) (string, error) {
	var text string
	for {
		err := b.EvalJSON(ctx, `document.body ? document.body.innerText : ""`, &text)
		if err == nil {
			all := true
			for _, w := range want {
				all = all && strings.Contains(text, w)
			}
			if all {
				return text, nil
			}
		}
		select {
		case <-ctx.Done():
			return text, fmt.Errorf("the page did not show %q: %w; it shows:\n%s", want, ctx.Err(), text)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// WaitVisible waits until an element matching the CSS selector is
// visible.
func (b *Browser) WaitVisible(ctx context.Context, sel string) error {
	return b.run(ctx, chromedp.WaitVisible(chromedp.CSS(sel)))
}

// Click clicks the first element matching the CSS selector.
func (b *Browser) Click(ctx context.Context, sel string) error {
	return b.run(ctx, chromedp.Click(chromedp.CSS(sel)))
}

// Type sends keys to the element matching the CSS selector (kb's
// constants for special keys, e.g. "\r" for Enter).
func (b *Browser) Type(ctx context.Context, sel, keys string) error {
	return b.run(ctx, chromedp.SendKeys(chromedp.CSS(sel), keys))
}

// InsertText focuses the element matching the CSS selector and inserts
// text as typed input (Input.insertText: one input event, as an input
// method sends; terminals such as xterm.js read it once, where key
// events of printable characters would reach them twice).
func (b *Browser) InsertText(ctx context.Context, sel, text string) error {
	if err := b.run(ctx, chromedp.Focus(chromedp.CSS(sel))); err != nil {
		return err
	}
	rctx, done := b.bounded(ctx)
	defer done()
	_, err := chromedp.Call(rctx, input.InsertText, input.InsertTextParams{Text: text})
	return err
}

// Screenshot is a PNG of the viewport.
func (b *Browser) Screenshot(ctx context.Context) ([]byte, error) {
	return value(ctx, b, chromedp.CaptureScreenshot())
}

// Cookies are every cookie of the browser, HttpOnly ones included.
func (b *Browser) Cookies(ctx context.Context) ([]*network.Cookie, error) {
	rctx, done := b.bounded(ctx)
	defer done()
	res, err := chromedp.CallBrowser(rctx, storage.GetCookies, storage.GetCookiesParams{})
	if err != nil {
		return nil, err
	}
	return res.Cookies, nil
}

// Storage is the local storage (or, with local false, the session
// storage) of origin, as key-value pairs.
func (b *Browser) Storage(ctx context.Context, origin string, local bool) (map[string]string, error) {
	rctx, done := b.bounded(ctx)
	defer done()
	res, err := chromedp.Call(rctx, domstorage.GetDOMStorageItems, domstorage.GetDOMStorageItemsParams{
		StorageID: &domstorage.StorageID{SecurityOrigin: origin, IsLocalStorage: local}})
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, it := range res.Entries {
		if len(it) == 2 {
			out[it[0]] = it[1]
		}
	}
	return out, nil
}
