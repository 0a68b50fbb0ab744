package apiclient

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/alisw/alilogin/internal/safehttp"
)

// DoIdempotent is Do for a call that may be sent more than once with the
// same effect: a read that makes nothing (a lookup, a KV read, a mount
// lookup) or a renewal (renew-self, a lease renewal). After a transient
// failure (a 500, 502, 503 or 504 that does not say the Vault is sealed,
// or a connection reset: safehttp.TransientStatus, TransientError) it
// tries again as c.Backoff says: at most 3 more times within about 3 s.
//
// Do, not DoIdempotent, is for every call whose repetition would do
// something twice: a login, a creds read (a read of nomad/creds or
// consul/creds mints a token), a revocation, a write.
func (c *Client) DoIdempotent(ctx context.Context, method, path string, in, out any) error {
	_, err := c.DoHeaderIdempotent(ctx, method, path, in, out)
	return err
}

// DoHeaderIdempotent is DoIdempotent that also returns the header of the
// last answer.
func (c *Client) DoHeaderIdempotent(ctx context.Context, method, path string, in, out any) (http.Header, error) {
	var h http.Header
	var err error
	c.Backoff.Do(ctx, func() bool {
		h, err = c.DoHeader(ctx, method, path, in, out)
		return transient(err)
	})
	return h, err
}

// transient reports whether err, from DoHeader, is worth another try of
// an idempotent call.
func transient(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false // a request that could not be built or an answer that could not be decoded
	}
	if e.Status == 0 {
		return safehttp.TransientError(e.Err)
	}
	return safehttp.TransientStatus(e.Status, strings.Join(e.Errors, "\n"))
}
