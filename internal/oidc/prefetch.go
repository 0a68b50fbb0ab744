package oidc

import (
	"context"
	"encoding/base64"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
)

// prefetchJWT is a token that no key verifies: its only use is to make the
// key set fetch the SSO's keys.
var prefetchJWT = prefetchB64(`{"alg":"RS256","kid":"alilogin-prefetch"}`) + "." + prefetchB64(`{}`) + "." + prefetchB64("x")

func prefetchB64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// PrefetchKeys fetches the SSO's signing keys into the cache that Verify
// uses, so that the ID token of a refresh grant running meanwhile is
// verified without waiting for them (the renewal chain of `alilogin token`
// runs both at once). go-oidc fetches the keys once for concurrent callers.
// Errors are ignored: Verify fetches the keys itself when they are missing.
func (c *Client) PrefetchKeys(ctx context.Context) {
	v := c.provider.Verifier(&gooidc.Config{SkipClientIDCheck: true, SkipExpiryCheck: true, SkipIssuerCheck: true})
	_, _ = v.Verify(c.ctx(ctx), prefetchJWT)
}
