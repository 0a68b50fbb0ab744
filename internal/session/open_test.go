package session

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/testutil"
)

// TestProfiles: the one profile choice of every command: --profile, else
// (without --all) ALILOGIN_PROFILE, the current profile or the configured
// default, else every stored profile.
func TestProfiles(t *testing.T) {
	env := testutil.Home(t, nil)
	st, err := store.Open(store.KindFile, func(k string) string { return env[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"ci", "admin"} {
		if err := st.Put(&store.Record{Version: store.RecordVersion, Profile: p}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		cfg  config.Config
		o    Options
		want []string
	}{
		{"flag", config.Config{DefaultProfile: "admin"}, Options{Profile: "x"}, []string{"x"}},
		{"default", config.Config{DefaultProfile: "admin"}, Options{}, []string{"admin"}},
		{"all ignores the default", config.Config{DefaultProfile: "admin"}, Options{All: true}, []string{"admin", "ci"}},
		{"every stored one", config.Config{}, Options{}, []string{"admin", "ci"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Profiles(Env{Getenv: func(k string) string { return env[k] }}, &tc.cfg, st, tc.o)
			slices.Sort(got)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("Profiles = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	if err := (Options{All: true, Profile: "ci"}).Check(); codeOf(err) != exitUsage {
		t.Errorf("--all with --profile: %v", err)
	}
	// Open wants one; several stored and none chosen is a usage error.
	_, err = Open(Env{Getenv: func(k string) string { return env[k] }}, Options{Store: store.KindFile})
	if codeOf(err) != exitUsage || !strings.Contains(err.Error(), "logged in to several profiles (admin, ci)") || strings.Contains(err.Error(), "--all") {
		t.Errorf("Open with two stored: %v", err)
	}
	var nc *NotChosenError
	if err := severalError([]string{"a", "b"}, true); !errors.As(err, &nc) || !nc.AllowAll || codeOf(err) != exitUsage {
		t.Errorf("logout's several: %v, want a usage error that says --all goes", err)
	}
}

// TestProfilePrecedence: --profile > ALILOGIN_PROFILE > the current
// profile (alilogin use) > default_profile in the config file > the only
// stored login, as Open (token, env, exec, status --short) resolves them
// from the real environment, config file and current-profile file.
func TestProfilePrecedence(t *testing.T) {
	for _, tc := range []struct {
		name                      string
		flag, env, current, deflt string
		stored                    []string
		want                      string
		wantCode                  int
	}{
		{name: "flag over all", flag: "f", env: "e", current: "c", deflt: "d", stored: []string{"c", "e"}, want: "f"},
		{name: "ALILOGIN_PROFILE over the current", env: "e", current: "c", deflt: "d", stored: []string{"c", "e"}, want: "e"},
		{name: "current over default_profile", current: "c", deflt: "d", stored: []string{"c", "d"}, want: "c"},
		{name: "current with two stored logins", current: "c", stored: []string{"c", "other"}, want: "c"},
		{name: "default_profile", deflt: "d", stored: []string{"c", "d"}, want: "d"},
		{name: "the only stored login", stored: []string{"c"}, want: "c"},
		{name: "two stored, none chosen", stored: []string{"c", "other"}, wantCode: exitUsage},
		{name: "nothing stored", wantCode: exitLoginNeeded},
		// A current profile whose login is gone still names it: the
		// command says to log in to it, it does not fall back to another.
		{name: "current not stored", current: "c", stored: []string{"other"}, want: "c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := testutil.Home(t, map[string]string{"ALILOGIN_PROFILE": tc.env})
			e := Env{Getenv: func(k string) string { return env[k] }}
			st, err := store.Open(store.KindFile, e.Getenv, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tc.stored {
				if err := st.Put(&store.Record{Version: store.RecordVersion, Profile: p}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.deflt != "" {
				writeConfigFile(t, env["XDG_CONFIG_HOME"], fmt.Sprintf("default_profile = %q\n", tc.deflt))
			}
			if tc.current != "" {
				if err := SetCurrent(e, tc.current); err != nil {
					t.Fatal(err)
				}
			}
			s, err := Open(e, Options{Profile: tc.flag})
			if tc.wantCode != 0 {
				if code := codeOf(err); code != tc.wantCode {
					t.Errorf("Open = %v (exit %d), want exit %d", err, code, tc.wantCode)
				}
				return
			}
			if err != nil || s.Profile != tc.want {
				t.Errorf("Open chose %v (%v), want %q", s, err, tc.want)
				return
			}
		})
	}
}

func writeConfigFile(t *testing.T, configHome, hcl string) {
	t.Helper()
	dir := filepath.Join(configHome, "alilogin")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.hcl"), []byte(hcl), 0o600); err != nil {
		t.Fatal(err)
	}
}
