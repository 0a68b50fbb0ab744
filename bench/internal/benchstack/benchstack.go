package benchstack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/config/check"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/teststack"
)

// BuildFlags are the go build arguments of a release binary
// (tools/release): static, without symbol table and DWARF. The benchmarks
// time what users run; a cgo build of the same code is dynamically linked
// and starts several milliseconds later (the loader and libc).
var BuildFlags = []string{"-trimpath", "-buildvcs=false", "-ldflags=-s -w"}

// Build builds alilogin into dir the way a release is built (BuildFlags,
// CGO_ENABLED=0) and returns the binary's path.
func Build(dir string) (string, error) {
	bin := filepath.Join(dir, "alilogin")
	fmt.Fprintln(os.Stderr, "building alilogin...")
	args := append(append([]string{"build"}, BuildFlags...), "-o", bin, "github.com/alisw/alilogin/cmd/alilogin")
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("could not build alilogin: %v\n%s", err, out)
	}
	return bin, nil
}

// Start starts the test stack; the caller closes it.
func Start(ctx context.Context) (*teststack.Stack, error) {
	fmt.Fprintln(os.Stderr, "starting the stack...")
	return teststack.Start(ctx, teststack.Options{})
}

// Env is the environment of a user of st whose home is home: its
// directories, the stack's Vault and identity provider, the keyring store
// and the Secret Service of the stack. The caller adds PATH and the
// Nomad and Consul it uses.
func Env(st *teststack.Stack, home string) map[string]string {
	env := map[string]string{
		"HOME":               home,
		"XDG_CONFIG_HOME":    filepath.Join(home, ".config"),
		"XDG_STATE_HOME":     filepath.Join(home, ".local", "state"),
		"VAULT_ADDR":         st.Vault.Addr,
		"ALILOGIN_ISSUER":    st.Hydra.IssuerURL,
		"ALILOGIN_CLIENT_ID": st.Hydra.ClientID,
		"ALILOGIN_STORE":     "keyring",
	}
	for _, kv := range st.Keyring.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return env
}

// SeedLogin puts into s the record of profile's login by user: only its
// refresh token, bound to the servers at vault, nomad and consul in their
// canonical form, as `alilogin login` records them. alilogin renews the
// rest from it.
func SeedLogin(s store.Store, st *teststack.Stack, profile, user, refresh, vault, nomad, consul string) error {
	var addrs [3]string
	for i, a := range []string{vault, nomad, consul} {
		var err error
		if addrs[i], err = check.Canonical(a); err != nil {
			return err
		}
	}
	return s.Put(&store.Record{Version: store.RecordVersion, Profile: profile, User: user, Subject: user,
		Issuer: st.Hydra.IssuerURL, ClientID: st.Hydra.ClientID, VaultAddr: addrs[0], NomadAddr: addrs[1], ConsulAddr: addrs[2],
		RefreshToken: secret.New(refresh), UpdatedAt: time.Now()})
}

// CPUs is the number of CPUs the bench's heading reports.
func CPUs() int { return runtime.NumCPU() }

// Median is the median of d (the mean of the two middle values when
// their number is even), 0 when d is empty; d is left as it was.
func Median[T time.Duration | float64](d []T) T {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
