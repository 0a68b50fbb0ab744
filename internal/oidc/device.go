package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/termtext"
)

// The ends of a device login other than success, each with its own plain
// message (RFC 8628 3.5).
var (
	// ErrDeviceExpired: the device code expired (expired_token, or its
	// expires_in passed) before the user signed in. It matches
	// ErrSignInEnded.
	ErrDeviceExpired error = &endedError{"the code expired before you signed in"}
	// ErrDeviceDenied: the user (or the SSO) refused the sign-in on the
	// other device (access_denied).
	ErrDeviceDenied = errors.New("the sign-in was denied on the other device")
)

// ErrNoDeviceFlow: the SSO's discovery document names no device
// authorization endpoint. The caller says what to do instead (alilogin:
// sign in through SSH port forwarding).
var ErrNoDeviceFlow = errors.New("does not offer the device flow")

// ErrSignInEnded: the sign-in ended without a login, and a new one may
// work: nobody signed in within the timeout, the device code expired,
// the sign-in link was opened twice. The caller says what to do next
// (alilogin: run alilogin login again).
var ErrSignInEnded = errors.New("the sign-in ended")

// endedError is a sign-in that ended (ErrSignInEnded), with its own
// text.
type endedError struct{ msg string }

func (e *endedError) Error() string        { return e.msg }
func (e *endedError) Is(target error) bool { return target == ErrSignInEnded }

func noSignInWithin(d time.Duration) error {
	return &endedError{fmt.Sprintf("no sign-in within %s", d)}
}

const (
	deviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"
	// defaultDeviceInterval is RFC 8628's polling interval when the SSO
	// names none; slowDownStep is what each slow_down adds to it.
	defaultDeviceInterval = 5 * time.Second
	slowDownStep          = 5 * time.Second
	// maxTokenResponse bounds what is read of a token response.
	maxTokenResponse = 1 << 20
)

// DeviceOptions tune the device login.
type DeviceOptions struct {
	Stderr   io.Writer
	Timeout  time.Duration
	Progress bool

	// after is the clock between polls; nil means time.After.
	after func(time.Duration) <-chan time.Time
}

// Device signs the user in with the device authorization grant (RFC 8628):
// it prints the verification URL and the user code, then polls the SSO
// until the user has signed in on another device, slowing down by 5 s each
// time the SSO asks (slow_down).
func (c *Client) Device(ctx context.Context, o DeviceOptions) (*Result, error) {
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.after == nil {
		o.after = time.After
	}
	if c.provider.Endpoint().DeviceAuthURL == "" {
		return nil, fmt.Errorf("the SSO at %s %w", c.cfg.Issuer, ErrNoDeviceFlow)
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	oc := c.oauth2("")
	da, err := oc.DeviceAuth(c.ctx(ctx))
	if err != nil {
		return nil, grantError(c.cfg.Issuer, "the device authorization request", err)
	}
	// The URL and the code are the SSO's text: cleaned like any other.
	fmt.Fprintf(o.Stderr, "To sign in, open this URL on any device:\n  %s\nand enter the code:\n  %s\n", termtext.Clean(da.VerificationURI), termtext.Clean(da.UserCode))
	if da.VerificationURIComplete != "" {
		fmt.Fprintf(o.Stderr, "(or open %s)\n", termtext.Clean(da.VerificationURIComplete))
	}
	const waiting = "waiting for the sign-in on the other device"
	stop := startSpinner(o.Stderr, o.Progress, waiting)
	defer func() { stop() }()

	interval := time.Duration(da.Interval) * time.Second
	if da.Interval <= 0 || da.Interval > int64(time.Hour/time.Second) {
		interval = defaultDeviceInterval
	}
	var expired <-chan time.Time
	if !da.Expiry.IsZero() {
		expired = o.after(time.Until(da.Expiry))
	}
	ended := func() error {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return noSignInWithin(o.Timeout)
		}
		return fmt.Errorf("login cancelled")
	}
	// The client id goes in the form and, as x/oauth2 sends it first, as
	// HTTP Basic user with an empty password; some SSOs need one, some
	// the other.
	basic := true
	for {
		select {
		case <-ctx.Done():
			return nil, ended()
		case <-expired:
			return nil, ErrDeviceExpired
		case <-o.after(interval):
		}
		tok, err := c.pollDevice(ctx, oc, da.DeviceCode, basic)
		if re := (*oauth2.RetrieveError)(nil); basic && errors.As(err, &re) && re.ErrorCode == "invalid_client" {
			// An SSO that wants the client id in the form only.
			basic = false
			tok, err = c.pollDevice(ctx, oc, da.DeviceCode, basic)
		}
		if err == nil {
			stop()
			return c.result(ctx, tok, "")
		}
		if ctx.Err() != nil {
			return nil, ended()
		}
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) {
			// A transport error can quote the token URL of the discovery document.
			return nil, ssoError(c.cfg.Issuer, "poll", errors.New(termtext.Clean(err.Error())))
		}
		switch re.ErrorCode {
		case "authorization_pending":
		case "slow_down":
			interval += slowDownStep
			stop()
			fmt.Fprintf(o.Stderr, "(the SSO asked alilogin to check less often: every %s now)\n", interval)
			stop = startSpinner(o.Stderr, o.Progress, waiting)
		case "expired_token":
			return nil, ErrDeviceExpired
		case "access_denied":
			return nil, ErrDeviceDenied
		default:
			return nil, grantError(c.cfg.Issuer, "the device code", err, secret.New(da.DeviceCode))
		}
	}
}

// pollDevice makes one device access token request (RFC 8628 3.4), with
// the client id also as HTTP Basic user when basic is set. An error
// response is an *oauth2.RetrieveError.
func (c *Client) pollDevice(ctx context.Context, oc *oauth2.Config, deviceCode string, basic bool) (*oauth2.Token, error) {
	form := url.Values{"grant_type": {deviceGrantType}, "device_code": {deviceCode}, "client_id": {oc.ClientID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, oc.Endpoint.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if basic {
		req.SetBasicAuth(url.QueryEscape(oc.ClientID), "")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse))
	if err != nil {
		return nil, err
	}
	var r struct {
		AccessToken      string `json:"access_token"`
		TokenType        string `json:"token_type"`
		RefreshToken     string `json:"refresh_token"`
		IDToken          string `json:"id_token"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	jerr := json.Unmarshal(body, &r)
	if resp.StatusCode < 200 || resp.StatusCode > 299 || r.Error != "" {
		return nil, &oauth2.RetrieveError{Response: resp, Body: body, ErrorCode: r.Error, ErrorDescription: r.ErrorDescription}
	}
	if jerr != nil {
		return nil, fmt.Errorf("could not parse the token response (%s): %s", termtext.Clean(resp.Header.Get("Content-Type")), termtext.Clean(jerr.Error()))
	}
	if r.AccessToken == "" {
		return nil, errors.New("the token response has no access_token")
	}
	tok := &oauth2.Token{AccessToken: r.AccessToken, TokenType: r.TokenType, RefreshToken: r.RefreshToken}
	return tok.WithExtra(map[string]any{"id_token": r.IDToken}), nil
}

// SupportsDevice reports whether the SSO offers the device flow.
func (c *Client) SupportsDevice() bool { return c.provider.Endpoint().DeviceAuthURL != "" }
