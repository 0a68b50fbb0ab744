package reaper

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/alisw/alilogin/internal/apiclient"
)

// Vault's token labels do not name the mount of the engine that made the
// token: "vault-ci-…" may come from role ci of any nomad engine of the same
// Vault, or from a role ci-x. engines is what one pass knows of the
// secrets engines of one type ("nomad" or "consul"), so that a token is
// kept whenever an engine other than the profile's own, or a role that is
// no managed profile's, could have made it.
type engines struct {
	typ      string
	rolePath string              // LIST <mount>/<rolePath>: "role" (nomad), "roles" (consul)
	mounts   []string            // every mount of type typ, without the trailing slash, sorted
	roles    map[string][]string // mount -> its role names, listed on first need
}

// readMounts returns the mount paths (without the trailing slash) of every
// secrets engine of Vault, by type: GET sys/mounts.
func readMounts(ctx context.Context, vault *apiclient.Client) (map[string][]string, error) {
	var out struct {
		Data map[string]struct {
			Type string `json:"type"`
		} `json:"data"`
	}
	if err := vault.Do(ctx, http.MethodGet, "/v1/sys/mounts", nil, &out); err != nil {
		return nil, fmt.Errorf("could not list Vault's secrets engines (sys/mounts): %w", err)
	}
	if len(out.Data) == 0 {
		return nil, fmt.Errorf("could not list Vault's secrets engines (sys/mounts): the answer names none")
	}
	byType := map[string][]string{}
	for path, m := range out.Data {
		path = strings.TrimSuffix(path, "/")
		if path == "" {
			continue
		}
		byType[m.Type] = append(byType[m.Type], path)
	}
	for _, ms := range byType {
		slices.Sort(ms)
	}
	return byType, nil
}

func newEngines(typ string, byType map[string][]string) *engines {
	e := &engines{typ: typ, rolePath: "role", mounts: byType[typ], roles: map[string][]string{}}
	if typ == "consul" {
		e.rolePath = "roles"
	}
	return e
}

// check tells why the profiles cannot be reaped for: a mount they name is
// not an engine of this type (a typo in broker.hcl, an engine not enabled
// yet or moved). A 404 under such a mount would read as "no lease" for
// every token, so nothing of this system is reaped then.
func (e *engines) check(mounts []string) error {
	for _, m := range mounts {
		if !slices.Contains(e.mounts, m) {
			return fmt.Errorf("could not reap %s tokens: Vault has no %s secrets engine at %s/ (sys/mounts); check %s_mount in broker.hcl", e.typ, e.typ, m, e.typ)
		}
	}
	return nil
}

// rolesOf returns the names of the roles of the engine at mount (LIST
// <mount>/role or <mount>/roles); none when it has none (404).
func (e *engines) rolesOf(ctx context.Context, vault *apiclient.Client, mount string) ([]string, error) {
	if rs, ok := e.roles[mount]; ok {
		return rs, nil
	}
	var out listed
	err := vault.Do(ctx, "LIST", "/v1/"+apiclient.EscapePath(mount)+"/"+e.rolePath, nil, &out)
	if err != nil && apiclient.StatusOf(err) != http.StatusNotFound {
		return nil, fmt.Errorf("could not list the roles of Vault's %s engine at %s/: %w", e.typ, mount, err)
	}
	e.roles[mount] = out.Data.Keys
	return out.Data.Keys, nil
}

// ambiguous returns, when the label of c also fits a role that may have
// made it and that is not a managed profile's role on c's mount, why the
// token is kept: a role of another engine of this type (any name that fits,
// the profile's own included), or another role on the profile's mount that
// no managed profile granting this system has.
func (e *engines) ambiguous(ctx context.Context, vault *apiclient.Client, c candidate, f format, managed map[string]bool) (string, error) {
	for _, m := range e.mounts {
		roles, err := e.rolesOf(ctx, vault, m)
		if err != nil {
			return "", err
		}
		for _, role := range roles {
			if role == "" || !strings.HasPrefix(c.Label, f.rolePrefix(role)) {
				continue
			}
			if m != mountKey(c.Mount) {
				return fmt.Sprintf("its name also fits role %s of the %s engine at %s/", role, e.typ, m), nil
			}
			if !managed[role] {
				return fmt.Sprintf("its name also fits role %s at %s/, which is no managed profile's", role, m), nil
			}
		}
	}
	return "", nil
}

// mountKey is a mount path as sys/mounts names it, without its slashes.
func mountKey(m string) string { return strings.Trim(m, "/") }
