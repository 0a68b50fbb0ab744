package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/safehttp"
	"github.com/alisw/alilogin/internal/termtext"
)

// maxSize bounds the document a client reads: a real one is a few KiB.
const maxSize = safehttp.MaxSSO

// timeout bounds a fetch with the default client.
const timeout = 10 * time.Second

// URL returns the discovery URL of the broker at base (a scheme and host,
// optionally with a path prefix such as https://host/broker).
func URL(base string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(base))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("invalid broker URL %q: want http(s)://host[:port]", base)
	}
	u.Path = strings.TrimRight(u.Path, "/") + Path
	u.RawQuery, u.Fragment = "", ""
	return u.String(), nil
}

// Fetch reads and validates the document of the broker at base with hc
// (nil: a client with a 10 s timeout). Whatever hc is, a redirect is
// followed only within the broker's origin (the document says where
// alilogin sends its tokens), and a document over 1 MiB is an error.
func Fetch(ctx context.Context, hc *http.Client, base string) (*Document, error) {
	if hc == nil {
		hc = &http.Client{Timeout: timeout}
	}
	hc = safehttp.Harden(hc, 0)
	// A read: tried again after a transient failure (a broker restarting
	// behind its load balancer).
	hc.Transport = safehttp.RetryReads(hc.Transport, safehttp.Backoff{})
	u, err := URL(base)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("could not build discovery request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) && safehttp.Refused(ue.Err) {
			return nil, fmt.Errorf("could not read the discovery document from %s: %w", u, ue.Err)
		}
		return nil, fmt.Errorf("could not reach the broker at %s: %w", base, termtext.Error(err)) // TLS errors quote the certificate's names
	}
	defer resp.Body.Close()
	body, err := safehttp.ReadBody(resp, maxSize)
	if err != nil {
		return nil, fmt.Errorf("could not read the discovery document from %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("could not read the discovery document from %s: %s", u, termtext.Clean(resp.Status))
	}
	return Parse(body)
}

// Parse decodes and validates a document.
func Parse(data []byte) (*Document, error) {
	var d Document
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("could not decode the discovery document: %w", err)
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return &d, nil
}
