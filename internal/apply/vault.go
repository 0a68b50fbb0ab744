package apply

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/plan"
)

// Vault objects:
//
//	policies      sys/policies/acl/:name     marker: first line "# managed by alilogin broker; object=vault/policy/<name>..."
//	JWT roles     auth/<jwt>/role/:name      managed when the managed policy alilogin-profile-<name> records it (roles=jwt@<jwt>)
//	nomad roles   <nomad>/role/:name         ditto (roles=nomad@<nomad>)
//	consul roles  <consul>/roles/:name       ditto (roles=consul@<consul>)
//	pki roles     <pki>/roles/:name          ditto (roles=pki@<pki>), see pki.go
//	groups        identity/group/name/:name  marker: metadata managed_by
//	JWT config    auth/<jwt>/config          owned when configure_jwt_auth = true
//	nomad lease   <nomad>/config/lease       owned when a profile grants Nomad tokens
//
// plan.Owner (internal/plan/ownership.go) judges what is read; see
// internal/plan/marker.go for the markers and the legacy rules.

type vaultData[T any] struct {
	Data T `json:"data"`
}

// list returns the keys under a Vault LIST endpoint; none when it is 404.
func (s *session) list(ctx context.Context, path string) ([]string, error) {
	var out vaultData[struct {
		Keys []string `json:"keys"`
	}]
	err := s.get(ctx, plan.Vault, path+"?list=true", &out)
	if apiclient.StatusOf(err) == 404 {
		return nil, nil
	}
	return out.Data.Keys, err
}

func (s *session) rolePath(k plan.Kind, name string) string {
	v := s.cfg.Vault
	switch k {
	case plan.NomadRole:
		return "/v1/" + v.NomadMount + "/role/" + url.PathEscape(name)
	case plan.ConsulRole:
		return "/v1/" + v.ConsulMount + "/roles/" + url.PathEscape(name)
	case plan.PKIRole:
		return s.pkiRolePath(name) // pki.go
	case plan.AttendedNomadRole:
		return "/v1/" + v.NomadMount + "/role/" + url.PathEscape(name)
	case plan.AttendedConsulRole:
		return "/v1/" + v.ConsulMount + "/roles/" + url.PathEscape(name)
	case plan.OIDCRole:
		return "/v1/auth/" + v.OIDCMount + "/role/" + url.PathEscape(name)
	}
	return "/v1/auth/" + v.JWTMount + "/role/" + url.PathEscape(name)
}

func (r *reader) vault(ctx context.Context) error {
	s := r.s
	v := s.cfg.Vault
	var (
		policies, jwtRoles, nomadRoles, consulRoles, pkiRoles, groups, oidcRoles []string
		jwtConfig, nomadLease, oidcConfig                                        *plan.Object
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { policies, err = s.list(gctx, "/v1/sys/policies/acl"); return })
	g.Go(func() (err error) { jwtRoles, err = s.list(gctx, "/v1/auth/"+v.JWTMount+"/role"); return })
	g.Go(func() (err error) { nomadRoles, err = s.list(gctx, "/v1/"+v.NomadMount+"/role"); return })
	g.Go(func() (err error) { consulRoles, err = s.list(gctx, "/v1/"+v.ConsulMount+"/roles"); return })
	g.Go(func() (err error) { groups, err = s.list(gctx, "/v1/identity/group/name"); return })
	g.Go(func() (err error) { pkiRoles, err = s.listPKIRoles(gctx); return }) // pki.go
	g.Go(func() error { return s.checkMounts(gctx) })
	if v.OIDCMount != "" { // attended.go
		g.Go(func() (err error) { oidcRoles, err = s.list(gctx, "/v1/auth/"+v.OIDCMount+"/role"); return })
	}
	if _, ok := r.owner.Desired(plan.Key{Kind: plan.OIDCConfig, Name: v.OIDCMount}); ok {
		g.Go(func() (err error) { oidcConfig, err = s.readOIDCConfig(gctx); return })
	}
	if v.ConfigureJWT {
		g.Go(func() (err error) { jwtConfig, err = s.readJWTConfig(gctx); return })
	}
	if _, ok := r.owner.Desired(plan.Key{Kind: plan.NomadLease, Name: v.NomadMount}); ok {
		g.Go(func() (err error) { nomadLease, err = s.readNomadLease(gctx); return })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, o := range []*plan.Object{jwtConfig, nomadLease, oidcConfig} {
		if o != nil {
			r.add(r.owner.Config(*o))
		}
	}

	// Every policy is read: the marker is in the text. The owner notes
	// what each managed profile policy records, for the roles below.
	err := r.each(ctx, plan.Vault, readablePolicies(policies), func(ctx context.Context, name string) error {
		var out vaultData[struct {
			Policy string `json:"policy"`
		}]
		if err := s.get(ctx, plan.Vault, "/v1/sys/policies/acl/"+url.PathEscape(name), &out); err != nil {
			if apiclient.StatusOf(err) == 404 {
				return nil // deleted meanwhile
			}
			return err
		}
		if name == plan.DefaultPolicy {
			r.mu.Lock()
			r.defaultPolicy = &out.Data.Policy
			r.mu.Unlock()
		}
		r.add(r.owner.VaultPolicy(name, out.Data.Policy))
		return nil
	})
	if err != nil {
		return err
	}

	// Roles: read those a record lists (the broker may have made them);
	// the others are noted only when a desired one has their name (a
	// conflict).
	read, unrecorded := rolesToRead(r.owner, map[plan.Kind][]string{plan.JWTRole: jwtRoles, plan.NomadRole: nomadRoles, plan.ConsulRole: consulRoles, plan.PKIRole: pkiRoles,
		plan.AttendedNomadRole: nomadRoles, plan.AttendedConsulRole: consulRoles, plan.OIDCRole: oidcRoles})
	for _, k := range unrecorded {
		r.add(r.owner.UnrecordedRole(k.kind, k.name))
	}
	groupNames := slices.DeleteFunc(groups, func(n string) bool { return !r.owner.MayOwnGroup(n) })
	g, gctx = errgroup.WithContext(ctx)
	g.Go(func() error {
		keys := make([]string, len(read))
		for i, rr := range read {
			keys[i] = string(rr.kind) + "\x00" + rr.name
		}
		return r.each(gctx, plan.Vault, keys, func(ctx context.Context, key string) error {
			kind, name, _ := strings.Cut(key, "\x00")
			o, err := s.readRole(ctx, plan.Kind(kind), name)
			if err != nil || o == nil {
				return err
			}
			r.add(r.owner.Role(*o))
			return nil
		})
	})
	g.Go(func() error {
		return r.each(gctx, plan.Vault, groupNames, func(ctx context.Context, name string) error {
			o, err := s.readGroup(ctx, name)
			if err != nil || o == nil {
				return err
			}
			r.add(r.owner.Group(o.Object, o.managedBy, o.aliasName, o.onMount))
			return nil
		})
	})
	var aliases map[string]aliasInfo
	g.Go(func() (err error) { aliases, err = s.listGroupAliases(gctx); return })
	if err := g.Wait(); err != nil {
		return err
	}
	return r.aliasConflicts(ctx, aliases)
}

// aliasInfo is what Vault lists of a group alias.
type aliasInfo struct {
	Name          string `json:"name"`
	MountAccessor string `json:"mount_accessor"`
	CanonicalID   string `json:"canonical_id"`
}

// listGroupAliases lists every group alias (one LIST, a GET: it writes
// nothing), by id.
func (s *session) listGroupAliases(ctx context.Context) (map[string]aliasInfo, error) {
	var out vaultData[struct {
		KeyInfo map[string]aliasInfo `json:"key_info"`
	}]
	err := s.get(ctx, plan.Vault, "/v1/identity/group-alias/id?list=true", &out)
	if apiclient.StatusOf(err) == 404 {
		return nil, nil
	}
	return out.Data.KeyInfo, err
}

// aliasConflicts notes the desired groups whose alias (on the JWT mount)
// another group holds: Vault allows one alias of a name per mount, so
// apply would write everything before it and then fail on the alias. The
// group of the desired name (in any case) may hold it; any other is a
// conflict, named.
func (r *reader) aliasConflicts(ctx context.Context, aliases map[string]aliasInfo) error {
	s := r.s
	r.mu.Lock()
	live := slices.Clone(r.out)
	r.mu.Unlock()
	for _, t := range takenAliases(r.desired, live, aliases, s.jwtAccessor()) {
		var out vaultData[groupData]
		who := "id " + t.holder
		if err := s.get(ctx, plan.Vault, "/v1/identity/group/id/"+url.PathEscape(t.holder), &out); err == nil && out.Data.Name != "" {
			who = fmt.Sprintf("%q", out.Data.Name)
		}
		r.mu.Lock()
		r.taken = append(r.taken, plan.Conflict{Kind: plan.Group, Name: t.group, Reason: fmt.Sprintf(
			"its alias %q on the JWT mount belongs to the group %s (Vault allows one alias of a name per mount); remove that alias or group, or rename the role", t.alias, who)})
		r.mu.Unlock()
	}
	return nil
}

// checkMounts finds the JWT auth mount (and its accessor, for group
// aliases) and the nomad and consul secrets engines that the profiles
// need (an engine no profile grants tokens of may be missing).
func (s *session) checkMounts(ctx context.Context) error {
	type mount struct {
		Type     string `json:"type"`
		Accessor string `json:"accessor"`
	}
	var auths, mounts vaultData[map[string]mount]
	if err := s.get(ctx, plan.Vault, "/v1/sys/auth", &auths); err != nil {
		return err
	}
	if err := s.get(ctx, plan.Vault, "/v1/sys/mounts", &mounts); err != nil {
		return err
	}
	v := s.cfg.Vault
	m, ok := auths.Data[v.JWTMount+"/"]
	if !ok || m.Type != "jwt" && m.Type != "oidc" {
		return fmt.Errorf("no jwt auth method at auth/%s/ in Vault; enable it: vault auth enable -path=%s jwt", v.JWTMount, v.JWTMount)
	}
	s.mu.Lock()
	s.accessor = m.Accessor
	s.mu.Unlock()
	for _, want := range []struct {
		path, typ string
		need      bool
	}{{v.NomadMount, "nomad", s.cfg.GrantsNomad()}, {v.ConsulMount, "consul", s.cfg.GrantsConsul()}} {
		if !want.need {
			continue
		}
		if m, ok := mounts.Data[want.path+"/"]; !ok || m.Type != want.typ {
			return fmt.Errorf("no %s secrets engine at %s/ in Vault; enable and configure it: vault secrets enable -path=%s %s", want.typ, want.path, want.path, want.typ)
		}
	}
	oidc, ok := auths.Data[v.OIDCMount+"/"]
	if err := checkOIDCMount(v.OIDCMount, oidc.Type, ok); err != nil { // attended.go
		return err
	}
	pki, ok := mounts.Data[v.PKIMount+"/"]
	return checkPKIMount(v.PKIMount, pki.Type, ok) // pki.go
}

// readRole reads a JWT, nomad or consul role into canonical fields (not
// yet judged); nil when it is gone.
func (s *session) readRole(ctx context.Context, kind plan.Kind, name string) (*plan.Object, error) {
	var out vaultData[map[string]json.RawMessage]
	if err := s.get(ctx, plan.Vault, s.rolePath(kind, name), &out); err != nil {
		if apiclient.StatusOf(err) == 404 {
			return nil, nil
		}
		return nil, err
	}
	f := roleFields(kind, out.Data)
	if kind == plan.PKIRole {
		f = s.pkiRoleFields(out.Data) // pki.go
	}
	return &plan.Object{Kind: kind, Name: name, Mount: plan.RoleMount(s.cfg.Vault, kind), Fields: f}, nil
}

// roleFields puts the settings d of a role of kind k into canonical
// form: every field of plan.RoleFieldNames, so that a hand edit of any of
// them is drift, and a missing one reads as its zero value (Vault leaves
// out empty lists).
func roleFields(kind plan.Kind, d map[string]json.RawMessage) plan.Fields {
	f := plan.Fields{}
	for _, k := range plan.RoleFieldNames(kind) {
		switch k {
		case "bound_audiences", "token_policies", "policies", "consul_policies", "consul_roles",
			"service_identities", "node_identities", "token_bound_cidrs", "allowed_redirect_uris", "oidc_scopes":
			f[k] = sortedStrings(d[k])
		case "bound_claims":
			f[k] = claims(d[k])
		case "claim_mappings":
			f[k] = pairs(d[k])
		case "global", "local", "user_claim_json_pointer", "token_no_default_policy", "verbose_oidc_logging":
			var v bool
			_ = json.Unmarshal(d[k], &v)
			f[k] = v
		case "token_ttl", "token_max_ttl", "token_period", "token_explicit_max_ttl", "token_num_uses",
			"ttl", "max_ttl", "clock_skew_leeway", "expiration_leeway", "not_before_leeway", "max_age":
			f[k] = num(d[k])
		default:
			f[k] = str(d[k])
		}
	}
	return f
}

// pairs reads a map of strings as sorted "key=value" entries.
func pairs(b json.RawMessage) []string {
	var m map[string]string
	_ = json.Unmarshal(b, &m)
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

// roleBody is what a role write sends for canonical fields f: claim
// mappings go as a map.
func roleBody(f plan.Fields) map[string]any {
	body := make(map[string]any, len(f))
	for k, v := range f {
		body[k] = v
	}
	if cm, ok := f["claim_mappings"].([]string); ok {
		m := make(map[string]string, len(cm))
		for _, e := range cm {
			k, v, _ := strings.Cut(e, "=")
			m[k] = v
		}
		body["claim_mappings"] = m
	}
	return body
}

func str(b json.RawMessage) string {
	var s string
	_ = json.Unmarshal(b, &s)
	return s
}

func num(b json.RawMessage) int64 {
	var f float64
	if json.Unmarshal(b, &f) == nil {
		return int64(f)
	}
	return 0
}

// sortedStrings takes a list of strings or a comma-separated string.
func sortedStrings(b json.RawMessage) []string {
	var out []string
	if json.Unmarshal(b, &out) != nil {
		var s string
		if json.Unmarshal(b, &s) == nil && s != "" {
			out = strings.Split(s, ",")
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func claims(b json.RawMessage) map[string][]string {
	var raw map[string]json.RawMessage
	if json.Unmarshal(b, &raw) != nil || raw == nil {
		return nil
	}
	out := make(map[string][]string, len(raw))
	for k, v := range raw {
		var s string
		if json.Unmarshal(v, &s) == nil {
			out[k] = []string{s}
			continue
		}
		out[k] = sortedStrings(v)
	}
	return out
}

// do makes the write call w.
func (s *session) do(ctx context.Context, w vaultWrite, out any) error {
	return s.call(ctx, plan.Vault, w.method, w.path, w.body, out)
}

func (s *session) applyVaultPolicy(ctx context.Context, c plan.Change) error {
	return s.do(ctx, policyWrite(c), nil)
}

func (s *session) applyVaultRole(ctx context.Context, c plan.Change) error {
	w, err := roleWrite(s.rolePath(c.Kind, c.Name), c, s.pkiRoleBody) // pki.go
	if err != nil {
		return err
	}
	return s.do(ctx, w, nil)
}

// readVaultConfig reads the data of a Vault config endpoint; nil when it
// was never set (Vault answers 404, or no data).
func (s *session) readVaultConfig(ctx context.Context, path string) (map[string]json.RawMessage, error) {
	var out vaultData[map[string]json.RawMessage]
	err := s.get(ctx, plan.Vault, path, &out)
	if apiclient.StatusOf(err) == 404 {
		return nil, nil
	}
	return out.Data, err
}

func (s *session) readJWTConfig(ctx context.Context) (*plan.Object, error) {
	data, err := s.readVaultConfig(ctx, "/v1/auth/"+s.cfg.Vault.JWTMount+"/config")
	if data == nil || err != nil {
		return nil, err
	}
	return &plan.Object{Kind: plan.JWTConfig, Name: s.cfg.Vault.JWTMount, Fields: plan.Fields{
		"oidc_discovery_url": str(data["oidc_discovery_url"]),
		"bound_issuer":       str(data["bound_issuer"]),
	}}, nil
}

// applyJWTConfig writes the discovery URL and bound issuer, keeping the
// other settings Vault returns (a config write replaces the whole config).
func (s *session) applyJWTConfig(ctx context.Context, c plan.Change) error {
	if c.Action == plan.Delete {
		return nil // never: the config is not deleted
	}
	path := "/v1/auth/" + s.cfg.Vault.JWTMount + "/config"
	var out vaultData[map[string]any]
	if err := s.get(ctx, plan.Vault, path, &out); err != nil && apiclient.StatusOf(err) != 404 {
		return err
	}
	w, ok := jwtConfigWrite(path, c, out.Data)
	if !ok {
		return nil
	}
	return s.do(ctx, w, nil)
}

// readNomadLease reads <nomad>/config/lease; nil when it was never set
// (Vault answers 404).
func (s *session) readNomadLease(ctx context.Context) (*plan.Object, error) {
	data, err := s.readVaultConfig(ctx, "/v1/"+s.cfg.Vault.NomadMount+"/config/lease")
	if data == nil || err != nil {
		return nil, err
	}
	return &plan.Object{Kind: plan.NomadLease, Name: s.cfg.Vault.NomadMount, Fields: plan.Fields{
		"ttl":     num(data["ttl"]),
		"max_ttl": num(data["max_ttl"]),
	}}, nil
}

// applyNomadLease writes <nomad>/config/lease (both settings: a write
// replaces the whole config). It is never deleted: without it the engine
// falls back to the mount's default lease, which is worse.
func (s *session) applyNomadLease(ctx context.Context, c plan.Change) error {
	w, ok := nomadLeaseWrite("/v1/"+s.cfg.Vault.NomadMount+"/config/lease", c)
	if !ok {
		return nil
	}
	return s.do(ctx, w, nil)
}

type groupData struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Type     string            `json:"type"`
	Policies []string          `json:"policies"`
	Metadata map[string]string `json:"metadata"`
	Alias    *struct {
		ID            string `json:"id"`
		Name          string `json:"name"`
		MountAccessor string `json:"mount_accessor"`
	} `json:"alias"`
}

// liveGroup is a group as read, with what plan.Owner judges it by.
type liveGroup struct {
	plan.Object
	managedBy, aliasName string
	onMount              bool // the alias is on the broker's JWT mount
}

// readGroup reads the group name (not yet judged: Managed false); nil
// when it is gone.
func (s *session) readGroup(ctx context.Context, name string) (*liveGroup, error) {
	var out vaultData[groupData]
	if err := s.get(ctx, plan.Vault, "/v1/identity/group/name/"+url.PathEscape(name), &out); err != nil {
		if apiclient.StatusOf(err) == 404 {
			return nil, nil
		}
		return nil, err
	}
	return groupOf(name, out.Data, s.jwtAccessor()), nil
}

func (s *session) applyGroup(ctx context.Context, c plan.Change) error {
	w := groupWrite(c)
	if c.Action == plan.Delete {
		return s.do(ctx, w, nil)
	}
	var out vaultData[groupData]
	if err := s.do(ctx, w, &out); err != nil {
		return err
	}
	id := out.Data.ID
	aliasID, liveAlias := "", ""
	if c.Live != nil {
		id = c.Live.ID
		aliasID, _ = c.Live.Fields["alias_id"].(string)
		liveAlias, _ = c.Live.Fields["alias"].(string)
	}
	if id == "" {
		o, err := s.readGroup(ctx, c.Name)
		if err != nil {
			return err
		}
		if o == nil {
			return fmt.Errorf("group %s vanished after it was written", c.Name)
		}
		id = o.ID
		aliasID, _ = o.Fields["alias_id"].(string)
		liveAlias, _ = o.Fields["alias"].(string)
	}
	w, ok := aliasWrite(c.Desired.Fields, liveAlias, aliasID, s.jwtAccessor(), id)
	if !ok {
		return nil
	}
	return s.do(ctx, w, nil)
}
