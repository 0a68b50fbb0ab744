package serve

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/alisw/alilogin/internal/discovery"
	"github.com/alisw/alilogin/internal/policy"
)

// Public are the addresses alilogin users reach the servers at; they may
// differ from the broker's own (an internal Vault address, say).
type Public struct {
	VaultAddr  string
	NomadAddr  string // empty: the policies' nomad address
	ConsulAddr string // empty: the policies' consul address
}

// state is one good configuration and what is derived from it.
type state struct {
	cfg        *policy.Config
	generation int64
	hash       string
	loadedAt   time.Time
	discovery  []byte // rendered JSON
}

// fingerprint hashes the names and contents of every regular file under
// dir, so that a change of any file (or a new or removed one) shows.
func fingerprint(dir string) (string, error) {
	h := sha256.New()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0 {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("could not read %s: %w", dir, err)
	}
	// A link to a folder (vault/ deployed elsewhere): its entries, which is
	// what policy.Load reads of it; opening it as a file would fail.
	for _, p := range files {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			entries, err := os.ReadDir(p)
			if err != nil {
				return "", fmt.Errorf("could not read %s: %w", p, err)
			}
			for _, e := range entries {
				if e.Type().IsRegular() || e.Type()&fs.ModeSymlink != 0 {
					files = append(files, filepath.Join(p, e.Name()))
				}
			}
		}
	}
	sort.Strings(files)
	for _, p := range files {
		rel, _ := filepath.Rel(dir, p)
		st, err := os.Stat(p)
		switch {
		case err != nil:
			// A broken link: policy.Load says where; its target is hashed,
			// so that fixing it shows.
			target, _ := os.Readlink(p)
			fmt.Fprintf(h, "%s\x00broken link to %s\x00", rel, target)
			continue
		case st.IsDir():
			fmt.Fprintf(h, "%s/\x00", rel) // hashed by its entries above
			continue
		}
		fmt.Fprintf(h, "%s\x00", rel)
		f, err := os.Open(p)
		if err != nil {
			return "", fmt.Errorf("could not read %s: %w", p, err)
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("could not read %s: %w", p, err)
		}
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Discovery renders the public discovery document of cfg.
func Discovery(cfg *policy.Config, pub Public) discovery.Document {
	d := discovery.Document{
		Version: discovery.Version,
		SSO: discovery.SSO{Issuer: cfg.SSO.Issuer, ClientID: cfg.SSO.ClientID,
			RolesClaim: cfg.SSO.RolesClaim, UserClaim: cfg.SSO.UserClaim},
		Vault: discovery.Vault{Addr: firstNonEmpty(pub.VaultAddr, cfg.Vault.Addr), JWTMount: cfg.Vault.JWTMount,
			NomadMount: cfg.Vault.NomadMount, ConsulMount: cfg.Vault.ConsulMount},
		Nomad:    discovery.Server{Addr: firstNonEmpty(pub.NomadAddr, cfg.Nomad.Addr)},
		Consul:   discovery.Server{Addr: firstNonEmpty(pub.ConsulAddr, cfg.Consul.Addr)},
		Profiles: []discovery.Profile{},
	}
	for _, p := range cfg.Profiles {
		dp := discovery.Profile{Name: p.Name, Description: p.Description, Roles: append([]string{}, p.Roles...),
			Nomad: len(p.NomadPolicies) > 0, Consul: len(p.ConsulPolicies) > 0}
		if p.TTL > 0 {
			dp.TTL = p.TTL.String()
		}
		if p.MaxTTL > 0 {
			dp.MaxTTL = p.MaxTTL.String()
		}
		d.Profiles = append(d.Profiles, dp)
	}
	return d
}

func renderDiscovery(cfg *policy.Config, pub Public) ([]byte, error) {
	b, err := json.MarshalIndent(Discovery(cfg, pub), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("could not render the discovery document: %w", err)
	}
	return append(b, '\n'), nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
