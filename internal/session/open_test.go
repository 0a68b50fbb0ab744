package session

import (
	"slices"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/exitcode"
	"github.com/alisw/alilogin/internal/store"
)

// TestProfiles: the one profile choice of every command: --profile, else
// (without --all) the configured default, else every stored profile.
func TestProfiles(t *testing.T) {
	env := map[string]string{"HOME": t.TempDir(), "XDG_STATE_HOME": t.TempDir(), "XDG_CONFIG_HOME": t.TempDir(), "ALILOGIN_KERNEL_CACHE": "off"}
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
			got, err := Profiles(&tc.cfg, st, tc.o)
			slices.Sort(got)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("Profiles = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	if err := (Options{All: true, Profile: "ci"}).Check(); exitcode.Code(err, exitError) != exitUsage {
		t.Errorf("--all with --profile: %v", err)
	}
	// Open wants one; several stored and none chosen is a usage error.
	_, err = Open(Env{Getenv: func(k string) string { return env[k] }}, Options{Store: store.KindFile})
	if exitcode.Code(err, exitError) != exitUsage || !strings.Contains(err.Error(), "logged in to several profiles (admin, ci)") || strings.Contains(err.Error(), "--all") {
		t.Errorf("Open with two stored: %v", err)
	}
	if err := severalError([]string{"a", "b"}, true); !strings.HasSuffix(err.Error(), "or use --all") {
		t.Errorf("logout's hint: %v", err)
	}
}
