package oidc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// DeviceOptions tune the device login.
type DeviceOptions struct {
	Stderr   io.Writer
	Timeout  time.Duration
	Progress bool
}

// Device signs the user in with the device authorization grant (RFC 8628):
// it prints the verification URL and the user code, then polls the SSO
// until the user has signed in on another device.
func (c *Client) Device(ctx context.Context, o DeviceOptions) (*Result, error) {
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if c.provider.Endpoint().DeviceAuthURL == "" {
		return nil, fmt.Errorf("the SSO at %s does not offer the device flow; run alilogin login on a machine with a browser", c.cfg.Issuer)
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	oc := c.oauth2("")
	da, err := oc.DeviceAuth(c.ctx(ctx))
	if err != nil {
		return nil, exchangeError(c.cfg.Issuer, err)
	}
	fmt.Fprintf(o.Stderr, "To sign in, open this URL on any device:\n  %s\nand enter the code:\n  %s\n", da.VerificationURI, da.UserCode)
	if da.VerificationURIComplete != "" {
		fmt.Fprintf(o.Stderr, "(or open %s)\n", da.VerificationURIComplete)
	}
	stop := startSpinner(o.Stderr, o.Progress, "waiting for the sign-in on the other device")
	defer stop()
	tok, err := oc.DeviceAccessToken(c.ctx(ctx), da)
	stop()
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("no sign-in within %s; run alilogin login again", o.Timeout)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("login cancelled")
		}
		return nil, exchangeError(c.cfg.Issuer, err)
	}
	return c.result(ctx, tok, "")
}

// SupportsDevice reports whether the SSO offers the device flow.
func (c *Client) SupportsDevice() bool { return c.provider.Endpoint().DeviceAuthURL != "" }
