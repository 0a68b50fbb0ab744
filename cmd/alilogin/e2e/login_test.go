package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/teststack"
	"github.com/alisw/alilogin/internal/testutil"
)

const (
	readJobs = `namespace "default" { policy = "read" }`
	readKV   = `key_prefix "" { policy = "read" }`
)

var nprofiles atomic.Int32

// newProfile configures a fresh profile (unique name: the keyring is
// shared by the tests) allowed for roles.
func newProfile(t *testing.T, ctx context.Context, roles ...string) string {
	t.Helper()
	name := "p" + strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name())) + "-" + string(rune('a'+nprofiles.Add(1)%26))
	if len(name) > 60 {
		name = name[len(name)-60:]
	}
	if err := stack.SetupProfile(ctx, nil, teststack.ProfileSpec{Name: name, Roles: roles, NomadRules: readJobs, ConsulRules: readKV}); err != nil {
		t.Fatal(err)
	}
	return name
}

var nusers atomic.Int32

// newUserAccount adds an SSO user with roles and returns its name and
// password.
func newUserAccount(roles ...string) (string, string) {
	n := nusers.Add(1)
	name := "user" + string(rune('a'+n%26)) + strings.Repeat("x", int(n/26))
	pw := "pw-" + name
	stack.Hydra.AddUser(teststack.User{Username: name, Password: pw, UPN: name, Roles: roles, Name: "User " + name, Email: name + "@example.cern"})
	return name, pw
}

// newLoginUser is a test home (newUser) and an SSO user (newUserAccount),
// both of role, and a fresh profile allowed for role (newProfile): the
// user's name and password are for login.
func newLoginUser(t *testing.T, ctx context.Context, role string) (u *user, profile, name, pw string) {
	t.Helper()
	profile = newProfile(t, ctx, role)
	name, pw = newUserAccount(role)
	return newUser(t), profile, name, pw
}

type summary struct {
	User    string   `json:"user"`
	Roles   []string `json:"roles"`
	Profile string   `json:"profile"`
	Tokens  map[string]struct {
		Accessor  string    `json:"accessor"`
		Policies  []string  `json:"policies"`
		ExpiresAt time.Time `json:"expires_at"`
	} `json:"tokens"`
	Errors map[string]string `json:"errors"`
}

// login runs `alilogin login` and signs in with the browser.
func login(t *testing.T, ctx context.Context, u *user, username, password string, args ...string) (*proc, string) {
	t.Helper()
	p := u.start(t, append([]string{"login", "--no-browser", "--listen", "127.0.0.1:0"}, args...)...)
	text := signIn(t, ctx, p, username, password)
	if _, err := p.wait(time.Minute); err != nil {
		t.Fatal(err)
	}
	return p, text
}

// loginOK is login that fails the test unless alilogin exits 0; what
// names the login in the failure.
func loginOK(t *testing.T, ctx context.Context, u *user, username, password, what string, args ...string) *proc {
	t.Helper()
	p, _ := login(t, ctx, u, username, password, args...)
	if p.code() != 0 {
		t.Fatalf("%s: exit %d; stderr:\n%s", what, p.code(), p.stderr.String())
	}
	return p
}

func TestBrowserLogin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	profile := newProfile(t, ctx, "ci-users")
	name, pw := newUserAccount("ci-users", "other-egroup")
	u := newUser(t)

	p, page := login(t, ctx, u, name, pw, "--profile", profile, "--json", "-v")
	if p.code() != 0 {
		t.Fatalf("exit %d; stderr:\n%s", p.code(), p.stderr.String())
	}
	if !strings.Contains(page, "Signed in") {
		t.Errorf("browser page: %q", page)
	}
	t.Logf("stderr:\n%s", p.stderr.String())
	var sum summary
	if err := json.Unmarshal([]byte(p.stdout.String()), &sum); err != nil {
		t.Fatalf("--json output: %v\n%s", err, p.stdout.String())
	}
	if sum.User != name || sum.Profile != profile || !slices.Contains(sum.Roles, "ci-users") {
		t.Errorf("summary = %+v", sum)
	}
	if diff := cmp.Diff([]string{teststack.VaultPolicy(profile), "default"}, sorted(sum.Tokens["vault"].Policies)); diff != "" {
		t.Errorf("vault policies (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{profile + "-nomad"}, sum.Tokens["nomad"].Policies); diff != "" {
		t.Errorf("nomad policies (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{profile + "-consul"}, sum.Tokens["consul"].Policies); diff != "" {
		t.Errorf("consul policies (-want +got):\n%s", diff)
	}

	// This test process is a new process: read the record back from the
	// real Secret Service.
	st, err := store.Open("keyring", u.getenv, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := st.Get(profile)
	if err != nil {
		t.Fatalf("record not in the keyring: %v", err)
	}
	t.Cleanup(func() { _ = st.Delete(profile) })
	if rec.User != name || rec.RefreshToken.Empty() || rec.Vault == nil || rec.Nomad == nil || rec.Consul == nil {
		t.Fatalf("record = %+v", rec)
	}
	if rec.Issuer != stack.Hydra.IssuerURL || rec.ClientID != stack.Hydra.ClientID || rec.Subject != name {
		t.Errorf("record binding: issuer %q, client id %q, subject %q", rec.Issuer, rec.ClientID, rec.Subject)
	}
	// How each server's certificate was checked (no CA file: the
	// system's roots), for TestLoginTrustBindsTokens.
	if !strings.HasPrefix(rec.VaultTrust, "ca=") || !strings.HasPrefix(rec.NomadTrust, "ca=") || !strings.HasPrefix(rec.ConsulTrust, "ca=") {
		t.Errorf("record trust: vault %q, nomad %q, consul %q", rec.VaultTrust, rec.NomadTrust, rec.ConsulTrust)
	}
	if files, _ := store.NewFile(u.home).List(); len(files) != 0 {
		t.Errorf("unexpected file records: %v", files)
	}

	// Vault accepts the token, with exactly the profile's policies.
	vault := stack.Vault.Client().WithToken(rec.Vault.Secret)
	var self struct {
		Data struct {
			Policies []string `json:"policies"`
		} `json:"data"`
	}
	if err := vault.Do(ctx, "GET", "/v1/auth/token/lookup-self", nil, &self); err != nil {
		t.Fatalf("Vault refuses the stored token: %v", err)
	}
	if diff := cmp.Diff([]string{teststack.VaultPolicy(profile), "default"}, sorted(self.Data.Policies)); diff != "" {
		t.Errorf("Vault token policies (-want +got):\n%s", diff)
	}

	// Nomad: read jobs yes, submit no.
	nomad := stack.Nomad.Client().WithToken(rec.Nomad.Secret)
	if err := nomad.Do(ctx, "GET", "/v1/jobs", nil, nil); err != nil {
		t.Errorf("Nomad: reading jobs: %v", err)
	}
	job := map[string]any{"Job": map[string]any{"ID": "e2e", "Name": "e2e", "Type": "batch", "Datacenters": []string{"dc1"},
		"TaskGroups": []any{map[string]any{"Name": "g", "Tasks": []any{map[string]any{"Name": "t", "Driver": "raw_exec", "Config": map[string]any{"command": "/bin/true"}}}}}}}
	if err := nomad.Do(ctx, "POST", "/v1/jobs", job, nil); apiclient.StatusOf(err) != 403 {
		t.Errorf("Nomad: submitting a job: %v, want 403", err)
	}

	// Consul: read KV yes, write no.
	root := stack.Consul.Client()
	if err := root.Do(ctx, "PUT", "/v1/kv/e2e/greeting", "hello", nil); err != nil {
		t.Fatal(err)
	}
	consul := root.WithToken(rec.Consul.Secret)
	if err := consul.Do(ctx, "GET", "/v1/kv/e2e/greeting", nil, nil); err != nil {
		t.Errorf("Consul: reading KV: %v", err)
	}
	if err := consul.Do(ctx, "PUT", "/v1/kv/e2e/greeting", "bye", nil); apiclient.StatusOf(err) != 403 {
		t.Errorf("Consul: writing KV: %v, want 403", err)
	}

	// No secret in any output.
	noLeaks(t, p, rec.Vault.Secret, rec.Nomad.Secret, rec.Consul.Secret, rec.RefreshToken)
}

func sorted(l []string) []string {
	l = slices.Clone(l)
	slices.Sort(l)
	return l
}

// noLeaks fails when any secret appears in the process's output.
func noLeaks(t *testing.T, p *proc, secrets ...secret.String) {
	t.Helper()
	out := p.stdout.String() + p.stderr.String()
	for _, s := range secrets {
		if s.Empty() {
			continue
		}
		if strings.Contains(out, s.Reveal()) {
			t.Errorf("a secret (%d chars) appears in the output", len(s.Reveal()))
		}
	}
}

// TestReloginRevokesOld: a second login of the same profile replaces the
// record and revokes the first Vault token, and with it the first Nomad
// and Consul tokens.
func TestReloginRevokesOld(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, profile, name, pw := newLoginUser(t, ctx, "re-users")
	st := u.deleteAtEnd(t, profile)

	loginOK(t, ctx, u, name, pw, "first login", "--profile", profile)
	first, err := st.Get(profile)
	if err != nil {
		t.Fatal(err)
	}
	loginOK(t, ctx, u, name, pw, "second login", "--profile", profile)
	second, err := st.Get(profile)
	if err != nil {
		t.Fatal(err)
	}
	if second.Vault.Secret.Equal(first.Vault.Secret) {
		t.Fatal("the record was not replaced")
	}
	if err := stack.Vault.Client().WithToken(first.Vault.Secret).Do(ctx, "GET", "/v1/auth/token/lookup-self", nil, nil); apiclient.StatusOf(err) != 403 {
		t.Errorf("first Vault token still valid: %v", err)
	}
	// Vault revokes the leases asynchronously; give it a moment.
	nomad, consul := stack.Nomad.Client(), stack.Consul.Client()
	var nerr, cerr error
	gone := func(err error) bool { st := apiclient.StatusOf(err); return st == 403 || st == 404 }
	if !testutil.EventuallyEvery(10*time.Second, 100*time.Millisecond, func() bool {
		nerr = nomad.WithToken(first.Nomad.Secret).Do(ctx, "GET", "/v1/acl/token/self", nil, nil)
		cerr = consul.WithToken(first.Consul.Secret).Do(ctx, "GET", "/v1/acl/token/self", nil, nil)
		return gone(nerr) && gone(cerr)
	}) {
		t.Fatalf("first Nomad/Consul tokens still valid: %v / %v", nerr, cerr)
	}
	if err := nomad.WithToken(second.Nomad.Secret).Do(ctx, "GET", "/v1/acl/token/self", nil, nil); err != nil {
		t.Errorf("second Nomad token: %v", err)
	}
}

// TestChildTokensExpireWithVaultToken: Vault's nomad engine gives its
// leases the mount's default TTL (768 h on the dev server; the test
// removes nomad/config/lease, which the elevate tests' `broker apply` of
// the ALICE example sets on the shared stack), but Vault revokes them
// with the Vault token. login's summary, status and token all show the
// Nomad and Consul tokens expiring no later than the Vault token.
func TestChildTokensExpireWithVaultToken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_ = stack.Vault.Client().Do(ctx, "DELETE", "/v1/nomad/config/lease", nil, nil) // 404 before the engine is mounted
	u, profile, name, pw := newLoginUser(t, ctx, "cap-users")
	st := u.deleteAtEnd(t, profile)

	p := loginOK(t, ctx, u, name, pw, "login", "--profile", profile, "--json")
	var sum summary
	if err := json.Unmarshal([]byte(p.stdout.String()), &sum); err != nil {
		t.Fatalf("--json output: %v\n%s", err, p.stdout.String())
	}
	rec, err := st.Get(profile)
	if err != nil {
		t.Fatal(err)
	}

	// The premise: Vault's own lease of the Nomad token is far longer.
	var lease struct {
		Data struct {
			TTL int `json:"ttl"`
		} `json:"data"`
	}
	if err := stack.Vault.Client().Do(ctx, "PUT", "/v1/sys/leases/lookup", map[string]string{"lease_id": rec.Nomad.LeaseID}, &lease); err != nil {
		t.Fatal(err)
	}
	if time.Duration(lease.Data.TTL)*time.Second < 24*time.Hour {
		t.Fatalf("nomad lease TTL %ds: the premise of this test (the engine's 768h default) does not hold", lease.Data.TTL)
	}

	vaultExp := rec.Vault.ExpiresAt
	for _, k := range []string{"nomad", "consul"} {
		if got := sum.Tokens[k].ExpiresAt; got.After(vaultExp) {
			t.Errorf("login --json: %s expires at %s, after the Vault token (%s)", k, got, vaultExp)
		}
	}
	if !rec.Nomad.ExpiresAt.Equal(vaultExp) || rec.Consul.ExpiresAt.After(vaultExp) {
		t.Errorf("stored: nomad expires %s, consul %s; vault %s", rec.Nomad.ExpiresAt, rec.Consul.ExpiresAt, vaultExp)
	}
	if d := validFor(t, p.stderr.String(), "nomad:"); d > time.Hour {
		t.Errorf("login summary: nomad valid for %s, want at most the Vault token's 1h", d)
	}

	// status agrees, in JSON and as text.
	sp := u.run(t, "status", "--profile", profile, "--json")
	var js struct {
		Tokens map[string]struct {
			ExpiresAt  time.Time `json:"expires_at"`
			TTLSeconds int64     `json:"ttl_seconds"`
		} `json:"tokens"`
	}
	if err := json.Unmarshal([]byte(sp.stdout.String()), &js); err != nil {
		t.Fatalf("status --json: %v\n%s", err, sp.stdout.String())
	}
	if n, v := js.Tokens["nomad"], js.Tokens["vault"]; !n.ExpiresAt.Equal(v.ExpiresAt) || n.TTLSeconds > v.TTLSeconds || v.TTLSeconds > 3600 {
		t.Errorf("status --json: nomad %+v, vault %+v", n, v)
	}
	// login --json and status --json describe the tokens with the same
	// fields.
	if diff := cmp.Diff(tokenFields(t, sp.stdout.String()), tokenFields(t, p.stdout.String())); diff != "" {
		t.Errorf("token fields (-status --json +login --json):\n%s", diff)
	}
	sp = u.run(t, "status", "--profile", profile)
	if d := validFor(t, sp.stdout.String(), "nomad:"); d > time.Hour {
		t.Errorf("status: nomad valid for %s, want at most the Vault token's 1h", d)
	}

	// token serves the stored one: cached, no renewal, no re-mint.
	tp := u.run(t, "token", "--profile", profile, "--for", "nomad", "-v")
	if tp.code() != 0 || strings.TrimSpace(tp.stdout.String()) != rec.Nomad.Secret.Reveal() || strings.Contains(tp.stderr.String(), "minted") {
		t.Errorf("token: exit %d, same token %v, stderr %q", tp.code(), strings.TrimSpace(tp.stdout.String()) == rec.Nomad.Secret.Reveal(), tp.stderr.String())
	}
}

var validForRE = regexp.MustCompile(`valid for ([0-9hms.]+)`)

// validFor reads the "valid for D" of the line of out that starts with
// prefix (login's summary, status).
func validFor(t *testing.T, out, prefix string) time.Duration {
	t.Helper()
	for _, l := range lines(out) {
		if !strings.HasPrefix(strings.TrimSpace(l), prefix) {
			continue
		}
		m := validForRE.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("no validity in %q", l)
		}
		d, err := time.ParseDuration(strings.TrimSuffix(m[1], "."))
		if err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		return d
	}
	t.Fatalf("no %q line in:\n%s", prefix, out)
	return 0
}

// TestStoreFailureRevokesNewTokens: when the login cannot be stored, the
// Vault token just obtained is revoked, and with it the Nomad and Consul
// tokens minted under it: nothing is left alive that nobody holds. (The
// store's directory is a file: a read-only directory would not stop root.)
func TestStoreFailureRevokesNewTokens(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, profile, name, pw := newLoginUser(t, ctx, "sf-users")
	u.env["ALILOGIN_STORE"] = "file"
	state := filepath.Join(u.env["XDG_STATE_HOME"], "alilogin")
	if err := os.MkdirAll(state, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(state, "records"), []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}

	p, _ := login(t, ctx, u, name, pw, "--profile", profile)
	if p.code() != 1 || !strings.Contains(p.stderr.String(), "could not store the login") {
		t.Fatalf("exit %d, want 1 and the store error; stderr:\n%s", p.code(), p.stderr.String())
	}
	if strings.Contains(p.stderr.String(), "Logged in as") {
		t.Errorf("a summary was printed for a login that was not kept:\n%s", p.stderr.String())
	}
	// Vault: no token of the profile is left; Nomad, Consul: none of the
	// profile's tokens (Vault revokes the leases with the token).
	if n := countVaultTokens(t, ctx, profile); n != 0 {
		t.Errorf("%d Vault tokens of the profile are alive", n)
	}
	if !testutil.Eventually(10*time.Second, func() bool { return countNomadTokens(t, ctx, profile) == 0 && countConsulTokens(t, ctx, profile) == 0 }) {
		t.Errorf("tokens left: %d Nomad, %d Consul", countNomadTokens(t, ctx, profile), countConsulTokens(t, ctx, profile))
	}
}

// countConsulTokens counts the Consul tokens that carry the profile's policy.
func countConsulTokens(t *testing.T, ctx context.Context, profile string) int {
	t.Helper()
	return counted(t)(stack.ConsulTokens(ctx, profile+"-consul"))
}

// tokenFields are the field names of each token in login's or status's
// JSON output.
func tokenFields(t *testing.T, out string) map[string][]string {
	t.Helper()
	var v struct {
		Tokens map[string]map[string]json.RawMessage `json:"tokens"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	fields := map[string][]string{}
	for kind, tok := range v.Tokens {
		for f := range tok {
			fields[kind] = append(fields[kind], f)
		}
		slices.Sort(fields[kind])
	}
	return fields
}
