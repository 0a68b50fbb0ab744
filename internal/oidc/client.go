package oidc

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/alisw/alilogin/internal/safehttp"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/termtext"
)

// Config describes the SSO and this client of it.
type Config struct {
	Issuer     string
	ClientID   string
	Scopes     []string // "openid" is added when missing
	RolesClaim string   // claim name or JSON pointer
	UserClaim  string
	// HTTPClient talks to the SSO; nil means a client with a 30 s timeout.
	// Either way, redirects are followed only within an origin and each
	// answer is bounded (safehttp.MaxSSO).
	HTTPClient *http.Client
	// Now is the clock for token expiry checks; nil means time.Now.
	Now func() time.Time
	// Backoff is how a GET is tried again after a transient failure
	// (safehttp.RetryReads); the zero value is safehttp's defaults.
	Backoff safehttp.Backoff
	// InsecureHTTP is the user's opt-in to plain HTTP to hosts that are
	// not loopback (insecure_http): with it, an http:// issuer's
	// endpoints may be http:// too. It never allows an endpoint on
	// another origin than the issuer's.
	InsecureHTTP bool
}

// Result is a verified sign-in.
type Result struct {
	IDToken      secret.String
	RefreshToken secret.String // empty when the SSO gave none
	Identity     *Identity
	// Exchange is how long the token request and the ID token
	// verification took (the part of the sign-in without the user).
	Exchange time.Duration
}

// Client is a discovered SSO.
type Client struct {
	cfg      Config
	provider *gooidc.Provider
	hc       *http.Client
}

// New reads the issuer's discovery document.
func New(ctx context.Context, cfg Config) (*Client, error) {
	// A token endpoint that redirects must not carry a code, a refresh
	// token or a code verifier to another origin; go-oidc and x/oauth2
	// read answers without a bound (or cut them silently).
	var hc *http.Client
	if cfg.HTTPClient == nil {
		hc = safehttp.NewClient(30*time.Second, safehttp.MaxSSO)
	} else {
		hc = safehttp.Harden(cfg.HTTPClient, safehttp.MaxSSO)
	}
	// The SSO's GETs (discovery document, key set) are reads: tried again
	// after a transient failure. Its POSTs (code exchange, refresh grant,
	// device code, revocation) are sent once.
	hc.Transport = safehttp.RetryReads(hc.Transport, cfg.Backoff)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ClientID == "" {
		return nil, fmt.Errorf("no OIDC client id configured")
	}
	p, err := gooidc.NewProvider(gooidc.ClientContext(ctx, hc), cfg.Issuer)
	if err != nil {
		return nil, ssoError(cfg.Issuer, "read the discovery document of", err)
	}
	c := &Client{cfg: cfg, provider: p, hc: hc}
	// Before any secret is sent: the endpoints that receive one are on
	// the issuer's origin (endpoints.go).
	if err := c.checkEndpoints(); err != nil {
		return nil, err
	}
	return c, nil
}

// ssoError names the SSO and says whether it is down.
func ssoError(issuer, verb string, err error) error {
	err = termtext.Error(err) // go-oidc quotes the SSO's answer
	msg := err.Error()
	for _, s := range []string{"connection refused", "no such host", "i/o timeout", "deadline exceeded", "connection reset", "EOF"} {
		if strings.Contains(msg, s) {
			return fmt.Errorf("the SSO at %s is unreachable: %w", issuer, err)
		}
	}
	return fmt.Errorf("could not %s the SSO at %s: %w", verb, issuer, err)
}

func (c *Client) ctx(ctx context.Context) context.Context {
	ctx = gooidc.ClientContext(ctx, c.hc)
	return context.WithValue(ctx, oauth2.HTTPClient, c.hc)
}

func (c *Client) oauth2(redirect string) *oauth2.Config {
	scopes := c.cfg.Scopes
	if !slices.Contains(scopes, gooidc.ScopeOpenID) {
		scopes = append([]string{gooidc.ScopeOpenID}, scopes...)
	}
	return &oauth2.Config{ClientID: c.cfg.ClientID, Endpoint: c.provider.Endpoint(), RedirectURL: redirect, Scopes: scopes}
}

// result verifies the ID token in tok and builds the Result.
func (c *Client) result(ctx context.Context, tok *oauth2.Token, nonce string) (*Result, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, fmt.Errorf("the SSO at %s returned no ID token", c.cfg.Issuer)
	}
	id, err := c.Verify(ctx, raw, nonce)
	if err != nil {
		return nil, err
	}
	return &Result{IDToken: secret.New(raw), RefreshToken: secret.New(tok.RefreshToken), Identity: id}, nil
}
