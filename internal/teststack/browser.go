package teststack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// Browser is headless Debian Chromium driven by chromedp.
type Browser struct {
	ctx     context.Context
	cancel  func()
	dataDir string
}

// ChromiumPath finds the Chromium binary.
func ChromiumPath() (string, error) {
	for _, p := range []string{os.Getenv("ALILOGIN_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("chromium not found; install the Debian package chromium (make deps)")
}

// NewBrowser starts a fresh headless Chromium with an empty profile. Close
// it when done.
func NewBrowser() (*Browser, error) { return newBrowser(nil) }

// newBrowser starts Chromium with a profile in a new directory; as, when
// set, adds the options that run it as another user.
func newBrowser(as func(dataDir string) ([]chromedp.ExecAllocatorOption, error)) (*Browser, error) {
	path, err := ChromiumPath()
	if err != nil {
		return nil, err
	}
	dataDir, err := os.MkdirTemp("", "alilogin-chromium-")
	if err != nil {
		return nil, err
	}
	var extra []chromedp.ExecAllocatorOption
	if as != nil {
		if extra, err = as(dataDir); err != nil {
			os.RemoveAll(dataDir)
			return nil, err
		}
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dataDir),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// A page left with a request in flight (the Nomad UI's log
		// stream) would wait in the back-forward cache, its connection
		// open, until Chromium evicts it a minute later: tests that wait
		// for the request's end (the agent logs it then) would wait that
		// minute.
		chromedp.Flag("disable-features", "BackForwardCache"),
	}
	opts = append(opts, extra...)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil {
		bcancel()
		acancel()
		os.RemoveAll(dataDir)
		return nil, fmt.Errorf("could not start chromium: %w", err)
	}
	return &Browser{ctx: bctx, cancel: func() { bcancel(); acancel() }, dataDir: dataDir}, nil
}

// Close stops Chromium and removes its profile.
func (b *Browser) Close() {
	b.cancel()
	os.RemoveAll(b.dataDir)
}

// bounded derives a context of the browser that also ends with ctx.
func (b *Browser) bounded(ctx context.Context) (context.Context, func()) {
	rctx, cancel := context.WithCancel(b.ctx)
	stop := context.AfterFunc(ctx, cancel)
	return rctx, func() { stop(); cancel() }
}

// run runs actions in the browser, bounded by ctx.
func (b *Browser) run(ctx context.Context, actions ...chromedp.Action[chromedp.Void]) error {
	rctx, done := b.bounded(ctx)
	defer done()
	return chromedp.Do(rctx, actions...)
}

// value runs one action that returns a value.
func value[T any](ctx context.Context, b *Browser, a chromedp.Action[T]) (T, error) {
	rctx, done := b.bounded(ctx)
	defer done()
	return chromedp.Run(rctx, a)
}

// Open navigates to url.
func (b *Browser) Open(ctx context.Context, url string) error {
	return b.run(ctx, chromedp.Navigate(url))
}

// SubmitLogin fills the login app's form on the current page and submits it.
func (b *Browser) SubmitLogin(ctx context.Context, username, password string) error {
	return b.run(ctx,
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SetValue(chromedp.ID("username"), username),
		chromedp.SetValue(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("submit")),
	)
}

// Fill sets a form field by CSS selector and clicks a button (device
// pages of other providers).
func (b *Browser) Fill(ctx context.Context, fields map[string]string, submit string) error {
	var acts []chromedp.Action[chromedp.Void]
	for sel, v := range fields {
		acts = append(acts, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SetValue(chromedp.CSS(sel), v))
	}
	acts = append(acts, chromedp.Click(chromedp.CSS(submit)))
	return b.run(ctx, acts...)
}

// URL returns the current location.
func (b *Browser) URL(ctx context.Context) (string, error) {
	return value(ctx, b, chromedp.Location())
}

// Text returns the visible text of the current page.
func (b *Browser) Text(ctx context.Context) (string, error) {
	return value(ctx, b, chromedp.Text(chromedp.CSS("body")))
}

// WaitURL waits until the location starts with prefix and the page has
// loaded, and returns the location.
func (b *Browser) WaitURL(ctx context.Context, prefix string) (string, error) {
	for {
		u, err := b.URL(ctx)
		if err == nil && strings.HasPrefix(u, prefix) {
			_ = b.run(ctx, chromedp.WaitReady(chromedp.CSS("body")))
			return u, nil
		}
		select {
		case <-ctx.Done():
			return u, fmt.Errorf("browser did not reach %s (at %s): %w", prefix, u, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Login opens startURL (an authorization URL), signs in on the real login
// form and waits until the browser lands on a URL with donePrefix (the
// loopback callback). It returns the page text there.
func (b *Browser) Login(ctx context.Context, startURL, username, password, donePrefix string) (string, error) {
	if err := b.Open(ctx, startURL); err != nil {
		return "", err
	}
	if err := b.SubmitLogin(ctx, username, password); err != nil {
		return "", err
	}
	if _, err := b.WaitURL(ctx, donePrefix); err != nil {
		return "", err
	}
	return b.Text(ctx)
}
