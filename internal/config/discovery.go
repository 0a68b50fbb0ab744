package config

// The broker's discovery document as a configuration layer (added by the
// broker-serve work; see internal/discovery). `alilogin setup --broker URL`
// writes `broker = URL` to the config file and caches the document next
// to it (DiscoveryCacheName); Resolve then uses Discoverer as
// Sources.Discover, so the discovered settings stay below flags, env and
// the config file.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/alisw/alilogin/internal/atomicfile"
	"github.com/alisw/alilogin/internal/discovery"
)

// DiscoveryCacheName is the cached discovery document in the config dir.
const DiscoveryCacheName = "discovery.json"

// FromDiscovery turns a discovery document into a layer.
func FromDiscovery(d *discovery.Document) Config {
	c := Config{
		Issuer:     d.SSO.Issuer,
		ClientID:   d.SSO.ClientID,
		RolesClaim: d.SSO.RolesClaim,
		UserClaim:  d.SSO.UserClaim,
		Vault:      Server{Addr: d.Vault.Addr, Mount: d.Vault.JWTMount},
		Nomad:      Server{Addr: d.Nomad.Addr, Mount: d.Vault.NomadMount},
		Consul:     Server{Addr: d.Consul.Addr, Mount: d.Vault.ConsulMount},
		PKIMount:   d.Vault.PKIMount,
	}
	for _, p := range d.Profiles {
		cp := Profile{Name: p.Name, Roles: append([]string(nil), p.Roles...), NoNomad: !p.Nomad, NoConsul: !p.Consul, Direct: directFromDiscovery(p.Direct)}
		if p.Agent.ReadOnly {
			cp.AgentReadOnly, cp.AgentReadOnlyBy = true, AgentReadOnlyByBroker
		}
		if p.Attended != nil {
			a := *p.Attended
			cp.Attended = &a
		}
		c.Profiles = append(c.Profiles, cp)
	}
	return c
}

// Discoverer returns a Sources.Discover that fetches the document from the
// broker (with hc, nil: a client with a 10s timeout) and keeps a copy in
// cacheDir (empty: no cache) when it passes CheckDiscovery. When the broker cannot be reached, the cached
// copy of the same broker is used, so that a broker outage does not stop
// logins.
func Discoverer(ctx context.Context, hc *http.Client, cacheDir string) func(broker string) (Config, error) {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return func(broker string) (Config, error) {
		d, err := discovery.Fetch(ctx, hc, broker)
		if err == nil {
			// Only a document that passes Resolve's checks without the
			// user's opt-in to plain HTTP is kept: a refused one would
			// otherwise be what every local command (token, status,
			// logout) resolves from then on. (setup caches a document
			// checked with the user's opt-in.)
			if cacheDir != "" && CheckDiscovery(d, broker, false) == nil {
				_ = WriteDiscoveryCache(cacheDir, broker, d)
			}
			return FromDiscovery(d), nil
		}
		if cacheDir != "" {
			if cd, cerr := ReadDiscoveryCache(cacheDir, broker); cerr == nil {
				return FromDiscovery(cd), nil
			}
		}
		return Config{}, err
	}
}

// cached is the cache file's content: the document and where it came from.
type cached struct {
	Broker    string             `json:"broker"`
	FetchedAt time.Time          `json:"fetched_at"`
	Document  discovery.Document `json:"document"`
}

// WriteDiscoveryCache stores d, fetched from broker, in dir (0600, atomic).
func WriteDiscoveryCache(dir, broker string, d *discovery.Document) error {
	b, err := json.MarshalIndent(cached{Broker: broker, FetchedAt: time.Now().UTC(), Document: *d}, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, DiscoveryCacheName), b); err != nil {
		return fmt.Errorf("could not write discovery cache: %w", err)
	}
	return nil
}

// ReadDiscoveryCache reads the cached document of broker from dir.
func ReadDiscoveryCache(dir, broker string) (*discovery.Document, error) {
	b, err := os.ReadFile(filepath.Join(dir, DiscoveryCacheName))
	if err != nil {
		return nil, fmt.Errorf("could not read discovery cache: %w", err)
	}
	var c cached
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("could not read discovery cache: %w", err)
	}
	if c.Broker != broker {
		return nil, errors.New("could not read discovery cache: it belongs to another broker")
	}
	if err := c.Document.Validate(); err != nil {
		return nil, fmt.Errorf("could not read discovery cache: %w", err)
	}
	return &c.Document, nil
}
