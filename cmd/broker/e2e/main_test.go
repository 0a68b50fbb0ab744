package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/errprefix"
	"github.com/alisw/alilogin/internal/teststack"
)

var (
	stack *teststack.Stack
	bin   string // the broker binary
)

func TestMain(m *testing.M) {
	os.Exit(teststack.MainWithBinaries(m, teststack.Options{NoKeyring: true}, &stack, []string{teststack.BrokerPkg}, &bin))
}

// The exit codes of broker (docs/commands.md#exit-codes), as numbers:
// what scripts see.
const (
	exitOK      = 0
	exitError   = 1
	exitUsage   = 2
	exitChanges = 5 // plan --detailed-exitcode
)

// Test users of the ALICE example, one per role.
var users = []teststack.User{
	{Username: "alice", Password: "alice-pw", UPN: "alice", Roles: []string{"alice-ci-users"}, Name: "Alice", Email: "alice@example.cern"},
	{Username: "carol", Password: "carol-pw", UPN: "carol", Roles: []string{"alice-ci-admins"}, Name: "Carol", Email: "carol@example.cern"},
	{Username: "dave", Password: "dave-pw", UPN: "dave", Roles: []string{"alice-build-operators"}, Name: "Dave", Email: "dave@example.cern"},
	{Username: "eve", Password: "eve-pw", UPN: "eve", Roles: []string{"some-other-egroup"}, Name: "Eve", Email: "eve@example.cern"},
}

var (
	setupOnce sync.Once
	// One client per server for the whole run: Consul limits the
	// connections of one client address.
	vaultC, nomadC, consulC *apiclient.Client
)

// setup enables the JWT auth method and the nomad and consul secrets
// engines once, registers the test users, and removes whatever an earlier
// test left in the three systems.
func setup(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	var err error
	setupOnce.Do(func() {
		vaultC, nomadC, consulC = stack.Vault.Client(), stack.Nomad.Client(), stack.Consul.Client()
		if _, err = stack.EnableJWT(ctx, "jwt"); err != nil {
			return
		}
		if err = stack.EnableNomadEngine(ctx, "nomad"); err != nil {
			return
		}
		err = stack.EnableConsulEngine(ctx, "consul")
		for _, u := range users {
			stack.Hydra.AddUser(u)
		}
	})
	if err != nil {
		t.Fatalf("could not set up the stack: %v", err)
	}
	reset(t)
}

// reset deletes every policy, role and group the tests may have made, managed
// or not, and the nomad engine's lease config.
func reset(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	v, n, c := vaultC, nomadC, consulC
	for _, mount := range []string{"auth/jwt/role", "nomad/role", "consul/roles", "sys/policies/acl", "identity/group/name"} {
		var out struct {
			Data struct{ Keys []string } `json:"data"`
		}
		if err := v.Do(ctx, "GET", "/v1/"+mount+"?list=true", nil, &out); err != nil && apiclient.StatusOf(err) != 404 {
			t.Fatal(err)
		}
		for _, k := range out.Data.Keys {
			if k == "root" || k == "default" {
				continue
			}
			mustDo(t, v, "DELETE", "/v1/"+mount+"/"+url.PathEscape(k), nil, nil)
		}
	}
	mustDo(t, v, "DELETE", "/v1/nomad/config/lease", nil, nil)
	resetDirect(t) // directlogin_test.go
	var np []struct{ Name string }
	mustDo(t, n, "GET", "/v1/acl/policies", nil, &np)
	for _, p := range np {
		mustDo(t, n, "DELETE", "/v1/acl/policy/"+p.Name, nil, nil)
	}
	var cp []struct{ ID, Name string }
	mustDo(t, c, "GET", "/v1/acl/policies", nil, &cp)
	for _, p := range cp {
		if p.Name == "global-management" || strings.HasPrefix(p.Name, "builtin/") {
			continue
		}
		mustDo(t, c, "DELETE", "/v1/acl/policy/"+p.ID, nil, nil)
	}
}

func mustDo(t *testing.T, c *apiclient.Client, method, path string, in, out any) {
	t.Helper()
	if err := c.Do(context.Background(), method, path, in, out); err != nil {
		t.Fatal(err)
	}
}

// jwtAccessor is the accessor of Vault's JWT auth mount.
func jwtAccessor(t *testing.T) string {
	t.Helper()
	var auths struct {
		Data map[string]struct{ Accessor string } `json:"data"`
	}
	mustDo(t, vaultC, "GET", "/v1/sys/auth", nil, &auths)
	return auths.Data["jwt/"].Accessor
}

// handMadeGroup makes Vault identity group name with fields, as an admin
// would by hand, gives it the alias alias on the JWT mount and returns
// its ID.
func handMadeGroup(t *testing.T, name string, fields map[string]any, alias string) (id string) {
	t.Helper()
	var g struct {
		Data struct{ ID string } `json:"data"`
	}
	mustDo(t, vaultC, "POST", "/v1/identity/group/name/"+name, fields, &g)
	mustDo(t, vaultC, "POST", "/v1/identity/group-alias", map[string]any{"name": alias, "mount_accessor": jwtAccessor(t), "canonical_id": g.Data.ID}, nil)
	return g.Data.ID
}

// policiesDir copies the ALICE example to a temporary directory, with
// broker.hcl pointing at the stack, and applies edits (file -> content;
// empty content removes the file).
func policiesDir(t *testing.T, edits map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := stack.CopyPolicies(dir, filepath.Join("..", "..", "..", "policies"), false); err != nil {
		t.Fatal(err)
	}
	for f, content := range edits {
		p := filepath.Join(dir, f)
		if content == "" {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// brokerEnv is the environment of the broker against the stack.
func brokerEnv() func(string) string {
	env := map[string]string{}
	for _, kv := range stack.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

// broker runs the broker binary with args against the stack and returns
// its exit code and output.
func broker(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return brokerWith(t, brokerEnv(), nil, args...)
}

// brokerWith runs the broker binary with args, the environment getenv
// gives (of the variables of stack.Env) and stdin (nil: none).
func brokerWith(t *testing.T, getenv func(string) string, stdin io.Reader, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = processEnv(getenv)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &out, &errb
	code = exitCode(t, cmd.Run())
	t.Logf("broker %s -> %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out.String(), errb.String())
	if r, ok := errprefix.Repeated(errb.String()); ok {
		t.Errorf("broker %s: a message repeats its own prefix (%s)", strings.Join(args, " "), r)
	}
	return code, out.String(), errb.String()
}

// processEnv is the environment of a broker process: the variables of
// stack.Env as getenv gives them, and PATH.
func processEnv(getenv func(string) string) []string {
	env := []string{"PATH=" + os.Getenv("PATH")}
	for _, kv := range stack.Env() {
		k, _, _ := strings.Cut(kv, "=")
		if v := getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// exitCode is the exit code of a finished process; a process that could
// not run or was killed fails the test.
func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		return ee.ExitCode()
	}
	t.Fatalf("could not run the broker: %v", err)
	return -1
}
