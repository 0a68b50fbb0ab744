package config

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/config/check"
	"github.com/alisw/alilogin/internal/discovery"
)

// BrokerBase is the broker URL `setup --broker` was given, as setup
// records it: trimmed, normalised (check.Normalize), without a trailing
// '/'; an error when no discovery URL can be made of it.
func BrokerBase(raw string) (string, error) {
	base := check.Normalize(strings.TrimRight(strings.TrimSpace(raw), "/"))
	if _, err := discovery.URL(base); err != nil {
		return "", err
	}
	return base, nil
}

// FetchDiscovery reads the discovery document of the broker at base
// (checked by CheckBroker before) and checks it as every later login would: its
// mounts and addresses (CheckDiscovery) and its profile names. An
// unusable document is an error, so that setup writes nothing.
func FetchDiscovery(ctx context.Context, base string, insecureHTTP bool, timeout time.Duration) (*discovery.Document, error) {
	doc, err := discovery.Fetch(ctx, &http.Client{Timeout: timeout}, base)
	if err != nil {
		return nil, err
	}
	if err := CheckDiscovery(doc, base, insecureHTTP); err != nil {
		return nil, fmt.Errorf("the broker at %s sent an unusable discovery document: %w", base, err)
	}
	for _, p := range doc.Profiles {
		if !ValidProfileName(p.Name) {
			return nil, fmt.Errorf("the broker at %s sent an unusable discovery document: invalid profile name %q", base, p.Name)
		}
	}
	return doc, nil
}
