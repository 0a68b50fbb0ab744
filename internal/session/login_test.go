package session

import (
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/exitcode"
)

func TestChooseProfile(t *testing.T) {
	profiles := []config.Profile{{Name: "ci", Roles: []string{"ci-users"}}, {Name: "admin", Roles: []string{"ci-admins"}}}
	for _, tc := range []struct {
		name     string
		cfg      config.Config
		flag     string
		roles    []string
		want     string
		wantErr  string
		wantCode int
	}{
		{name: "flag wins", cfg: config.Config{Profiles: profiles, DefaultProfile: "admin"}, flag: "x", want: "x"},
		{name: "default", cfg: config.Config{Profiles: profiles, DefaultProfile: "admin"}, roles: []string{"ci-users"}, want: "admin"},
		{name: "only allowed", cfg: config.Config{Profiles: profiles}, roles: []string{"ci-users", "other"}, want: "ci"},
		{name: "several allowed", cfg: config.Config{Profiles: profiles}, roles: []string{"ci-users", "ci-admins"},
			wantErr: "your roles allow several profiles: ci, admin", wantCode: exitUsage},
		{name: "none allowed", cfg: config.Config{Profiles: profiles}, roles: []string{"guest"},
			wantErr: "none of the configured profiles (ci, admin) is allowed for your SSO roles (guest)", wantCode: exitError},
		{name: "none configured", cfg: config.Config{}, roles: []string{"guest"}, wantErr: "use --profile", wantCode: exitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ChooseProfile(&tc.cfg, tc.flag, tc.roles)
			if tc.wantErr == "" {
				if err != nil || got != tc.want {
					t.Errorf("got %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if code := exitcode.Code(err, exitError); code != tc.wantCode {
				t.Errorf("exit code %d, want %d", code, tc.wantCode)
			}
		})
	}
}
