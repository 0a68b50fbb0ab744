package safehttp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"syscall"
	"time"
)

// The defaults of a zero Backoff: at most 3 more tries, waits of about
// 250 ms, 500 ms and 1 s (each between half and all of it), and no try
// that would start more than 3 s after the first. The vault CLI's client
// retries 5xx twice, 1 to 1.5 s apart.
const (
	DefaultRetries = 3
	DefaultBase    = 250 * time.Millisecond
	DefaultBudget  = 3 * time.Second
)

// Backoff is how a call that may be sent again (an idempotent read or
// renewal) is tried again after a transient failure (Transient): a
// bounded number of times, with exponential backoff and jitter, within
// a time budget, so that a caller holding a lock holds it at most that
// much longer. The zero value uses the defaults; the clock, the sleep and
// the jitter are parameters for tests.
type Backoff struct {
	Retries int           // more tries after the first; 0: DefaultRetries, <0: none
	Base    time.Duration // the first wait, doubled after each retry; 0: DefaultBase
	// Budget bounds the time from the first try to the start of the last:
	// a retry whose wait would end later is not made. 0: DefaultBudget.
	Budget time.Duration
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx ends (then its error); nil: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a random duration in [0, d); nil: math/rand/v2.
	Jitter func(d time.Duration) time.Duration
}

// Do calls try, then again while it reports a transient failure and the
// backoff allows, waiting between tries. try keeps its own result.
func (b Backoff) Do(ctx context.Context, try func() (transient bool)) {
	retries, wait, budget := b.Retries, b.Base, b.Budget
	if retries == 0 {
		retries = DefaultRetries
	}
	if wait <= 0 {
		wait = DefaultBase
	}
	if budget <= 0 {
		budget = DefaultBudget
	}
	now, sleep, jitter := b.Now, b.Sleep, b.Jitter
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = sleepCtx
	}
	if jitter == nil {
		jitter = func(d time.Duration) time.Duration { return rand.N(d) }
	}
	start := now()
	for n := 0; try() && n < retries && ctx.Err() == nil; n++ {
		d := wait / 2
		if d > 0 {
			d += jitter(d)
		}
		if now().Sub(start)+d > budget || sleep(ctx, d) != nil {
			return
		}
		wait *= 2
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TransientStatus reports whether an answer with status and body may be
// worth a retry of an idempotent call: 500 (a Vault standby that cannot
// find the active node during an election), 502, 503 and 504 (a load
// balancer or a server between leaders), unless the body says the server
// is sealed ("Vault is sealed", or sys/health's "sealed":true): a sealed
// Vault stays sealed until a person unseals it, and the caller falls back
// at once (direct login).
func TransientStatus(status int, body string) bool {
	switch status {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return !strings.Contains(strings.ToLower(body), "sealed")
	}
	return false
}

// TransientError reports whether a request that got no answer may be
// worth a retry of an idempotent call: the connection was reset, or closed
// before the answer (EOF), as a server restarting or a load balancer
// dropping a backend does. A refused connection, a timeout, a TLS error, a
// refused redirect or a too large answer is not: it would fail the same
// way again, or has taken its time already.
func TransientError(err error) bool {
	return err != nil && !Refused(err) &&
		(errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF))
}

// peekLimit is how much of a 5xx answer's body RetryReads reads to see
// whether the server says it is sealed.
const peekLimit = 4 << 10

// RetryReads wraps next (nil: http.DefaultTransport) so that a GET or HEAD
// without a body is tried again as b says after a transient failure
// (TransientStatus, TransientError). For the clients whose GETs are reads
// by their protocol: the SSO's discovery document and key set, a broker's
// discovery document. Any other request (a token request, a refresh
// grant, a device code request, a revocation) is sent once, whatever
// happens. Vault, Nomad and Consul calls do not use it: there a GET can
// mint a token (a read of nomad/creds), so each call says whether it is
// idempotent (apiclient.Client.DoIdempotent).
func RetryReads(next http.RoundTripper, b Backoff) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &retryTransport{next: next, b: b}
}

type retryTransport struct {
	next http.RoundTripper
	b    Backoff
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if (req.Method != http.MethodGet && req.Method != http.MethodHead) || (req.Body != nil && req.Body != http.NoBody) {
		return t.next.RoundTrip(req)
	}
	var resp *http.Response
	var err error
	t.b.Do(req.Context(), func() bool {
		if resp != nil { // the previous try's transient answer
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, peekLimit))
			resp.Body.Close()
		}
		resp, err = t.next.RoundTrip(req.Clone(req.Context()))
		if err != nil {
			return TransientError(err)
		}
		if !TransientStatus(resp.StatusCode, "") {
			return false
		}
		head, rerr := io.ReadAll(io.LimitReader(resp.Body, peekLimit))
		resp.Body = readCloser{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
		return rerr == nil && TransientStatus(resp.StatusCode, string(head))
	})
	return resp, err
}

// readCloser reads from r and closes c.
type readCloser struct {
	io.Reader
	c io.Closer
}

func (r readCloser) Close() error { return r.c.Close() }
