package discovery

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxSize bounds the document a client reads.
const maxSize = 4 << 20

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
// (nil: http.DefaultClient).
func Fetch(ctx context.Context, hc *http.Client, base string) (*Document, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
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
		return nil, fmt.Errorf("could not reach the broker at %s: %w", base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxSize))
	if err != nil {
		return nil, fmt.Errorf("could not read the discovery document from %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("could not read the discovery document from %s: %s", u, resp.Status)
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
