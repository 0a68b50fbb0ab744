package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/plan"
	"github.com/alisw/alilogin/internal/policy"
	"github.com/alisw/alilogin/internal/secret"
)

// Attended tiers (internal/plan/attended.go): the OIDC auth mount and its
// config, the OIDC roles, the attended nomad and consul roles.
//
//	OIDC config   auth/<oidc>/config   owned when an attended tier exists; the
//	                                   mount is enabled (type oidc) when absent
//	OIDC roles    auth/<oidc>/role/:name          roles=oidc@<oidc>
//	nomad roles   <nomad>/role/:name.attended     roles=nomad-attended@<nomad>
//	consul roles  <consul>/roles/:name.attended   roles=consul-attended@<consul>

// maxSecretFile bounds what is read of client_secret_file.
const maxSecretFile = 64 << 10

// OIDCClientSecret is the confidential client's secret of the attended
// tiers: the environment variable policy.ClientSecretEnv, else the file
// s.ClientSecretFile, which must be a regular file that only its owner
// may read (like every secret file of the project). The secret never
// appears in an error.
func OIDCClientSecret(getenv func(string) string, s *policy.AttendedSettings) (secret.String, error) {
	if v := strings.TrimSpace(getenv(policy.ClientSecretEnv)); v != "" {
		return secret.New(v), nil
	}
	if s == nil || s.ClientSecretFile == "" {
		return secret.String{}, fmt.Errorf("could not read the OIDC client secret: set %s, or client_secret_file in broker.hcl's attended block", policy.ClientSecretEnv)
	}
	f, err := os.Open(s.ClientSecretFile)
	if err != nil {
		return secret.String{}, fmt.Errorf("could not read the OIDC client secret: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return secret.String{}, fmt.Errorf("could not read the OIDC client secret: %w", err)
	}
	if !st.Mode().IsRegular() {
		return secret.String{}, fmt.Errorf("could not read the OIDC client secret: %s is not a regular file", s.ClientSecretFile)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return secret.String{}, fmt.Errorf("could not read the OIDC client secret: %s (mode %v) may be read by group or others; run: chmod 600 %s", s.ClientSecretFile, st.Mode().Perm(), s.ClientSecretFile)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return secret.String{}, fmt.Errorf("could not read the OIDC client secret: %w", err)
	}
	if len(b) > maxSecretFile {
		return secret.String{}, fmt.Errorf("could not read the OIDC client secret: %s is larger than %d bytes", s.ClientSecretFile, maxSecretFile)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return secret.String{}, fmt.Errorf("could not read the OIDC client secret: %s is empty", s.ClientSecretFile)
	}
	return secret.New(v), nil
}

// readOIDCConfig reads auth/<oidc>/config; nil when the mount or its
// config is absent. The secret reads back as plan.SecretPlaceholder when
// a client id is set (Vault never returns it).
func (s *session) readOIDCConfig(ctx context.Context) (*plan.Object, error) {
	var out vaultData[map[string]json.RawMessage]
	err := s.get(ctx, plan.Vault, "/v1/auth/"+s.cfg.Vault.OIDCMount+"/config", &out)
	if apiclient.StatusOf(err) == 404 || apiclient.StatusOf(err) == 400 || (err == nil && out.Data == nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	f := plan.Fields{
		"oidc_discovery_url": str(out.Data["oidc_discovery_url"]),
		"bound_issuer":       str(out.Data["bound_issuer"]),
		"oidc_client_id":     str(out.Data["oidc_client_id"]),
		"oidc_client_secret": "",
	}
	if f["oidc_client_id"] != "" {
		f["oidc_client_secret"] = plan.SecretPlaceholder
	}
	return &plan.Object{Kind: plan.OIDCConfig, Name: s.cfg.Vault.OIDCMount, Fields: f}, nil
}

// applyOIDCConfig enables the OIDC auth mount when it is absent and
// writes its config with the client secret (never deleted).
func (s *session) applyOIDCConfig(ctx context.Context, c plan.Change) error {
	if c.Action == plan.Delete {
		return nil
	}
	sec, err := s.oidcSecret()
	if err != nil {
		return err
	}
	mount := s.cfg.Vault.OIDCMount
	typ, err := s.authMountType(ctx, mount)
	if err != nil {
		return err
	}
	if typ == "" {
		if err := s.do(ctx, vaultWrite{method: "POST", path: "/v1/sys/auth/" + mount, body: map[string]any{
			"type": "oidc", "description": "attended tiers of alilogin: " + plan.MarkerFor(plan.OIDCConfig, mount),
		}}, nil); err != nil {
			return fmt.Errorf("could not enable the OIDC auth method at auth/%s: %w", mount, err)
		}
	}
	path := "/v1/auth/" + mount + "/config"
	var out vaultData[map[string]any]
	if err := s.get(ctx, plan.Vault, path, &out); err != nil && apiclient.StatusOf(err) != 404 && apiclient.StatusOf(err) != 400 {
		return err
	}
	w, _ := jwtConfigWrite(path, c, out.Data)
	body := w.body.(map[string]any)
	body["oidc_client_secret"] = sec.Reveal()
	return s.do(ctx, w, nil)
}

// authMountType is the type of the auth method at mount ("" when none).
func (s *session) authMountType(ctx context.Context, mount string) (string, error) {
	var auths vaultData[map[string]struct {
		Type string `json:"type"`
	}]
	if err := s.get(ctx, plan.Vault, "/v1/sys/auth", &auths); err != nil {
		return "", err
	}
	return auths.Data[mount+"/"].Type, nil
}

// checkOIDCMount: the OIDC mount of the attended tiers, when present,
// must be a jwt/oidc auth method (apply enables it when absent).
func checkOIDCMount(mount, typ string, present bool) error {
	if mount == "" || !present {
		return nil
	}
	if typ != "oidc" && typ != "jwt" {
		return fmt.Errorf("auth/%s/ in Vault is a %s auth method, not oidc: choose another oidc_mount in broker.hcl's attended block", mount, typ)
	}
	return nil
}

// oidcSecret is the client secret, read once per Run.
func (s *session) oidcSecret() (secret.String, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secretErr == nil && !s.secret.Empty() {
		return s.secret, nil
	}
	src := s.secretSource
	if src == nil {
		src = func() (secret.String, error) { return OIDCClientSecret(os.Getenv, s.cfg.Attended) }
	}
	s.secret, s.secretErr = src()
	if s.secretErr == nil && s.secret.Empty() {
		s.secretErr = errors.New("could not read the OIDC client secret: it is empty")
	}
	return s.secret, s.secretErr
}
