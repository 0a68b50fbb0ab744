package apiclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/safehttp"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/termtext"
)

// MaxAnswer bounds the answer of one call. The broker's largest calls
// (Vault's LIST of token accessors, Nomad's and Consul's token lists) stay
// under a few MiB with thousands of objects; a larger answer is an error.
const MaxAnswer = 32 << 20

// Error messages from a server are cut to maxMessage runes each, at most
// maxMessages of them, after their secrets are masked.
const (
	maxMessage  = 500
	maxMessages = 10
)

// TLS is the TLS material for one server, as given by VAULT_CACERT,
// VAULT_CLIENT_CERT, VAULT_CLIENT_KEY and their Nomad/Consul twins.
type TLS struct {
	CACert     string // PEM file with the CA(s) to trust; empty = system pool
	ClientCert string // PEM file with the client certificate
	ClientKey  string // PEM file with the client key
	ServerName string // overrides the name checked in the server certificate
	// InsecureSkipVerify disables server certificate checks. Tests only.
	InsecureSkipVerify bool
}

// Config builds a *tls.Config; nil when no TLS setting is given.
func (t TLS) Config() (*tls.Config, error) {
	if t == (TLS{}) {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify}
	if t.CACert != "" {
		pem, err := os.ReadFile(t.CACert)
		if err != nil {
			return nil, fmt.Errorf("could not read CA certificate: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("could not read CA certificate %s: no PEM certificate in it", t.CACert)
		}
		c.RootCAs = pool
	}
	if (t.ClientCert == "") != (t.ClientKey == "") {
		return nil, errors.New("client certificate and client key must be given together")
	}
	if t.ClientCert != "" {
		pair, err := tls.LoadX509KeyPair(t.ClientCert, t.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("could not load client certificate %s: %w", t.ClientCert, err)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c, nil
}

// Client talks to one server.
type Client struct {
	Name        string // "Vault", "Nomad" or "Consul": used in errors
	Addr        string // base URL, e.g. https://vault.cern.ch:8200
	TokenHeader string // X-Vault-Token, X-Nomad-Token, X-Consul-Token
	Token       secret.String
	HTTP        *http.Client
	// Backoff is how DoIdempotent tries a call again (retry.go); the
	// zero value is safehttp's defaults.
	Backoff safehttp.Backoff
}

// New returns a client for the server at addr with the given TLS material.
func New(name, addr, tokenHeader string, t TLS, timeout time.Duration) (*Client, error) {
	u, err := url.Parse(addr)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("invalid %s address %q: want http(s)://host:port", name, addr)
	}
	tc, err := t.Config()
	if err != nil {
		return nil, fmt.Errorf("%s TLS: %w", name, err)
	}
	// HTTP/1.1 only: with GODEBUG=http2debug, Go's HTTP/2 code would
	// print the token header (safehttp.HTTP1).
	tr := safehttp.HTTP1(&http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		TLSClientConfig:     tc,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
	})
	return &Client{
		Name:        name,
		Addr:        strings.TrimRight(addr, "/"),
		TokenHeader: tokenHeader,
		// A redirect to another origin is refused before anything is sent
		// there: no token header, no body, no https to http.
		HTTP: &http.Client{Transport: tr, Timeout: timeout, CheckRedirect: safehttp.CheckRedirect},
	}, nil
}

// WithToken returns a copy of c that sends token.
func (c *Client) WithToken(token secret.String) *Client {
	cp := *c
	cp.Token = token
	return &cp
}

// Error is a failed call: no usable answer came from the configured server
// (it could not be reached, it redirected to another origin, or its answer
// was over MaxAnswer), or it answered with a non-2xx status.
type Error struct {
	Server string // "Vault"
	Addr   string
	Method string
	Path   string // without query
	Status int    // 0 when no usable answer came
	// Errors are the server's messages, with secrets masked, control
	// characters replaced (termtext.Clean) and cut.
	Errors []string
	Err    error // the cause when Status is 0
}

func (e *Error) Error() string {
	if e.Status == 0 {
		if safehttp.Refused(e.Err) {
			return fmt.Sprintf("%s %s %s: %s", e.Server, e.Method, e.Path, termtext.OneLine(e.Err.Error()))
		}
		return fmt.Sprintf("%s at %s is unreachable: %s", e.Server, e.Addr, termtext.OneLine(fmt.Sprint(e.Err)))
	}
	msg := strings.Join(e.Errors, "; ")
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("%s %s %s: %d: %s", e.Server, e.Method, e.Path, e.Status, msg)
}

func (e *Error) Unwrap() error { return e.Err }

// Unreachable reports whether err means that no usable answer came from
// the configured server: it could not be reached, it redirected elsewhere,
// or its answer was too large. Nothing else is worth trying with it.
func Unreachable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == 0
}

// StatusOf returns the HTTP status of err, or 0.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// Do sends a request with in (if not nil) as the JSON body and decodes a JSON
// answer into out (if not nil). A 404 with an empty body, as Vault gives for
// a missing object, is an *Error with Status 404.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	_, err := c.DoHeader(ctx, method, path, in, out)
	return err
}

// DoHeader is Do that also returns the response header (Nomad and Consul
// put their index there).
func (c *Client) DoHeader(ctx context.Context, method, path string, in, out any) (http.Header, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("could not encode request to %s %s: %w", c.Name, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Addr+path, body)
	if err != nil {
		return nil, fmt.Errorf("could not build request to %s: %w", c.Name, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if !c.Token.Empty() {
		req.Header.Set(c.TokenHeader, c.Token.Reveal())
	}
	cleanPath, _, _ := strings.Cut(path, "?")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, &Error{Server: c.Name, Addr: c.Addr, Method: method, Path: cleanPath, Err: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	data, err := safehttp.ReadBody(resp, MaxAnswer)
	if err != nil {
		return nil, &Error{Server: c.Name, Addr: c.Addr, Method: method, Path: cleanPath, Err: err}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.Header, &Error{Server: c.Name, Addr: c.Addr, Method: method, Path: cleanPath, Status: resp.StatusCode, Errors: errorMessages(data, c.Token)}
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.Header, fmt.Errorf("could not decode answer of %s %s %s: %w", c.Name, method, cleanPath, err)
		}
	}
	return resp.Header, nil
}

// errorMessages extracts the messages of Vault's {"errors":[...]} or takes
// Nomad's and Consul's plain-text bodies, and makes them fit for a
// terminal and a log: secrets masked first (so that none escapes in part
// across a cut), then made one line (termtext.OneLine: go-multierror's
// "1 error occurred:\n\t* ..." reads as its message) with control
// characters replaced, then cut.
func errorMessages(data []byte, token secret.String) []string {
	var v struct {
		Errors []string `json:"errors"`
	}
	var msgs []string
	if json.Unmarshal(data, &v) == nil && len(v.Errors) > 0 {
		msgs = v.Errors
	} else if s := strings.TrimSpace(string(data)); s != "" {
		msgs = []string{s}
	}
	more := len(msgs) - maxMessages
	if more > 0 {
		msgs = msgs[:maxMessages]
	}
	out := make([]string, 0, len(msgs)+1)
	for _, m := range msgs {
		out = append(out, termtext.Cut(termtext.OneLine(scrub(m, token)), maxMessage, "..."))
	}
	if more > 0 {
		out = append(out, fmt.Sprintf("(%d more)", more))
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// scrub hides secrets that a server (or a proxy in front of it) may echo
// in an error body: the token this client sent, any JWT, such as the ID
// token of a JWT login, and any PEM private key (MaskPEMKeys), such as the
// key revoke-with-key sends. Error messages end up on terminals and in
// logs.
func scrub(m string, token secret.String) string {
	if t := token.Reveal(); len(t) >= 4 {
		m = strings.ReplaceAll(m, t, secret.Redacted)
	}
	return scrubJWTs(MaskPEMKeys(m))
}

// scrubJWTs replaces each compact JWS (base64url "eyJ..." header, payload
// and signature, dot-separated) in s with [REDACTED].
func scrubJWTs(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "eyJ")
		if i < 0 {
			break
		}
		j, dots := i, 0
		for j < len(s) && (isB64URL(s[j]) || s[j] == '.') {
			if s[j] == '.' {
				dots++
			}
			j++
		}
		if dots >= 2 {
			b.WriteString(s[:i])
			b.WriteString(secret.Redacted)
		} else {
			b.WriteString(s[:j])
		}
		s = s[j:]
	}
	if b.Len() == 0 {
		return s
	}
	b.WriteString(s)
	return b.String()
}

func isB64URL(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
