package session

import (
	"errors"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/testutil"
)

func TestChooseProfile(t *testing.T) {
	profiles := []config.Profile{{Name: "ci", Roles: []string{"ci-users"}}, {Name: "admin", Roles: []string{"ci-admins"}}}
	for _, tc := range []struct {
		name     string
		cfg      config.Config
		roles    []string
		want     string
		wantErr  string
		wantCode int
	}{
		{name: "only allowed", cfg: config.Config{Profiles: profiles}, roles: []string{"ci-users", "other"}, want: "ci"},
		{name: "several allowed", cfg: config.Config{Profiles: profiles}, roles: []string{"ci-users", "ci-admins"},
			wantErr: "your roles allow several profiles: ci, admin", wantCode: exitUsage},
		{name: "none allowed", cfg: config.Config{Profiles: profiles}, roles: []string{"guest"},
			wantErr: "none of the configured profiles (ci, admin) is allowed for your SSO roles (guest)", wantCode: exitError},
		{name: "none configured", cfg: config.Config{}, roles: []string{"guest"}, wantErr: "use --profile", wantCode: exitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ChooseProfile(&tc.cfg, tc.roles)
			if tc.wantErr == "" {
				if err != nil || got != tc.want {
					t.Errorf("got %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if code := codeOf(err); code != tc.wantCode {
				t.Errorf("exit code %d, want %d", code, tc.wantCode)
			}
		})
	}
	_, err := ChooseProfile(&config.Config{Profiles: profiles}, []string{"ci-users", "ci-admins"})
	var several *SeveralProfilesError
	if !errors.As(err, &several) || strings.Join(several.Allowed, ",") != "ci,admin" {
		t.Errorf("several allowed: %v, want a *SeveralProfilesError listing ci and admin", err)
	}
}

// TestLoginProfileBeforeSignIn: a login's profile is known before the
// sign-in from --profile, ALILOGIN_PROFILE, the current profile or
// default_profile; with none of them it is left to the roles, which
// needs configured profiles: without any, the login fails before the
// sign-in (exit 2), saying how to pick one.
func TestLoginProfileBeforeSignIn(t *testing.T) {
	profiles := []config.Profile{{Name: "ci", Roles: []string{"ci-users"}}}
	for _, tc := range []struct {
		name               string
		flag, env, current string
		cfg                config.Config
		want               string
		wantErr            string
	}{
		{name: "flag", flag: "f", env: "e", current: "c", cfg: config.Config{DefaultProfile: "d"}, want: "f"},
		{name: "ALILOGIN_PROFILE", env: "e", current: "c", cfg: config.Config{DefaultProfile: "d"}, want: "e"},
		{name: "current", current: "c", cfg: config.Config{DefaultProfile: "d"}, want: "c"},
		{name: "default_profile", cfg: config.Config{DefaultProfile: "d"}, want: "d"},
		{name: "from the roles", cfg: config.Config{Profiles: profiles}, want: ""},
		{name: "nothing to choose from", cfg: config.Config{}, wantErr: "none is configured to choose from"},
		{name: "invalid flag", flag: "../x", cfg: config.Config{}, wantErr: "invalid profile name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := testutil.Home(t, map[string]string{"ALILOGIN_PROFILE": tc.env})
			e := Env{Getenv: func(k string) string { return env[k] }}
			if tc.current != "" {
				if err := SetCurrent(e, tc.current); err != nil {
					t.Fatal(err)
				}
			}
			got, err := LoginProfile(e, &tc.cfg, tc.flag)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || codeOf(err) != exitUsage {
					t.Errorf("LoginProfile = %q, %v; want exit 2 with %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("LoginProfile = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
