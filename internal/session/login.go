package session

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/issue"
	"github.com/alisw/alilogin/internal/renew"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

// LoginProfile is the profile of a fresh login chosen before the
// sign-in: --profile, else ALILOGIN_PROFILE, the current profile or
// default_profile. "" means it is to be chosen from the user's roles
// after the sign-in (ChooseProfile), which needs profiles to choose from
// (the config file's, the broker's discovery document's): without any,
// it fails here, before a browser is opened for nothing.
func LoginProfile(e Env, cfg *config.Config, flag string) (string, error) {
	p := flag
	if p == "" {
		var err error
		if p, err = chosen(e, cfg); err != nil {
			return "", err
		}
	}
	if p != "" {
		return p, checkName(p)
	}
	if len(cfg.Profiles) == 0 {
		return "", usage(ErrNoProfileToChoose)
	}
	return "", nil
}

// ErrNoProfileToChoose: a login names no profile and none is
// configured (a usage error).
var ErrNoProfileToChoose = errors.New("no profile given, and none is configured to choose from")

// SeveralProfilesError: the user's roles allow several of the configured
// profiles and none was chosen.
type SeveralProfilesError struct{ Allowed []string }

func (e *SeveralProfilesError) Error() string {
	return "your roles allow several profiles: " + strings.Join(e.Allowed, ", ")
}

// ChooseProfile picks the profile of a fresh login that LoginProfile
// left to the roles: the only configured profile the user's roles
// allow. Several: a *SeveralProfilesError (exit code 2).
func ChooseProfile(cfg *config.Config, roles []string) (string, error) {
	var allowed, all []string
	for _, p := range cfg.Profiles {
		all = append(all, p.Name)
		if slices.ContainsFunc(p.Roles, func(r string) bool { return slices.Contains(roles, r) }) {
			allowed = append(allowed, p.Name)
		}
	}
	yours := "none"
	if len(roles) > 0 {
		yours = strings.Join(termtext.CleanAll(roles), ", ")
	}
	switch {
	case len(allowed) == 1:
		return allowed[0], nil
	case len(allowed) > 1:
		return "", usage(&SeveralProfilesError{Allowed: allowed})
	case len(all) == 0:
		return "", usage(errors.New("no profile given and none configured; use --profile NAME"))
	default:
		return "", fmt.Errorf("none of the configured profiles (%s) is allowed for your SSO roles (%s); ask for a role in the CERN Application Portal, or use --profile", strings.Join(all, ", "), yours)
	}
}

// CheckVault is login's preflight: it fails when Vault cannot be
// reached at all (issue.VaultHealth's Answered: any HTTP answer will
// do), with what to set when the TLS handshake failed.
func CheckVault(ctx context.Context, vault *apiclient.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	err := issue.AskVaultHealth(ctx, vault).Answered()
	if err == nil {
		return nil
	}
	cause := err
	var ae *apiclient.Error
	if errors.As(err, &ae) && ae.Err != nil {
		cause = ae.Err
	}
	msg := cause.Error()
	for _, s := range []string{"certificate required", "bad certificate", "handshake failure", "unknown certificate"} {
		if strings.Contains(msg, s) {
			return fmt.Errorf("Vault at %s requires a client certificate that it accepts: set VAULT_CLIENT_CERT and VAULT_CLIENT_KEY (%v)", vault.Addr, cause)
		}
	}
	if strings.Contains(msg, "certificate signed by unknown authority") || strings.Contains(msg, "x509:") {
		return fmt.Errorf("could not verify the certificate of Vault at %s: set VAULT_CACERT to its CA (%v)", vault.Addr, cause)
	}
	return err
}

// SkippedTokens says which of the Nomad and Consul tokens the profile
// grants login did not mint because no address of their server is
// configured, and why; nil when none.
func SkippedTokens(cfg *config.Config, noNomad, noConsul bool) map[string]string {
	var out map[string]string
	for _, k := range []struct {
		kind store.Kind
		addr string
		none bool
	}{{store.Nomad, cfg.Nomad.Addr, noNomad}, {store.Consul, cfg.Consul.Addr, noConsul}} {
		if k.addr == "" && !k.none {
			if out == nil {
				out = map[string]string{}
			}
			out[string(k.kind)] = (&renew.NotConfiguredError{Server: k.kind}).Error()
		}
	}
	return out
}

// TTL is how long until exp, for people: "ever" past 50 years,
// "expired" when it has passed.
func TTL(exp, now time.Time) string {
	d := exp.Sub(now).Round(time.Second)
	if d > 50*365*24*time.Hour {
		return "ever"
	}
	if d < 0 {
		return "expired"
	}
	return d.String()
}

// LoginPreflight is login's check of Vault before the sign-in
// (CheckVault). For a profile with a direct login (the one chosen, or
// any configured when none is chosen yet) a Vault that cannot issue
// tokens is no error: the login gets the Nomad and Consul tokens
// directly; the short probe's answer is remembered for it.
func LoginPreflight(ctx context.Context, e Env, cfg *config.Config, cl *Clients, profile string) error {
	for _, p := range cfg.Profiles {
		if (profile == "" || p.Name == profile) && directFor(e, cfg, cl, p.Name) != nil {
			_ = availability(e, cfg, cl).Check(ctx)
			return nil
		}
	}
	return CheckVault(ctx, cl.Vault)
}
