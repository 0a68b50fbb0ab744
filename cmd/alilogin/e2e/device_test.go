package e2e

import (
	"context"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/teststack"
)

// The device-flow provider: Hydra v2.3.0 has no device endpoint, so this
// test runs zitadel/oidc's example OpenID provider, with a public client
// allowed the device grant and the CERN claims in its ID tokens.

const deviceClientID = "alilogin-device"

type deviceUsers map[string]*storage.User

func (u deviceUsers) GetUserByID(id string) *storage.User      { return u[id] }
func (u deviceUsers) GetUserByUsername(n string) *storage.User { return u[n] }
func (u deviceUsers) ExampleClientID() string                  { return "unused" }

// publicDeviceClient is the example's device client made public (no
// secret), as alilogin is.
type publicDeviceClient struct{ *storage.Client }

func (publicDeviceClient) AuthMethod() oidc.AuthMethod { return oidc.AuthMethodNone }
func (publicDeviceClient) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeDeviceCode, oidc.GrantTypeRefreshToken}
}

type deviceStorage struct {
	*storage.Storage
	roles map[string][]string
}

func (s *deviceStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return publicDeviceClient{c.(*storage.Client)}, nil
}

func (s *deviceStorage) SetUserinfoFromScopes(ctx context.Context, ui *oidc.UserInfo, userID, clientID string, scopes []string) error {
	if err := s.Storage.SetUserinfoFromScopes(ctx, ui, userID, clientID, scopes); err != nil {
		return err
	}
	ui.AppendClaims("cern_upn", userID)
	ui.AppendClaims("cern_roles", s.roles[userID])
	return nil
}

// startDeviceOP starts the provider with one user and returns its issuer.
func startDeviceOP(t *testing.T, username, password string, roles []string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + l.Addr().String()
	users := deviceUsers{username: {ID: username, Username: username, Password: password, FirstName: "Device", LastName: "User", Email: username + "@example.cern"}}
	clients := map[string]*storage.Client{deviceClientID: storage.DeviceClient(deviceClientID, "")}
	st := &deviceStorage{Storage: storage.NewStorageWithClients(users, clients), roles: map[string][]string{username: roles}}
	// The example storage completes a device authorization without its
	// lock while the token endpoint reads it (a data race in
	// zitadel/oidc's example server, seen under -race): one request at a
	// time.
	op := exampleop.SetupServer(issuer, st, nil, false)
	var mu sync.Mutex
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		op.ServeHTTP(w, r)
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return issuer
}

var (
	deviceURL  = regexp.MustCompile(`(?m)^\(or open (\S+)\)$`)
	deviceCode = regexp.MustCompile(`(?m)^and enter the code:\n  (\S+)$`)
)

func TestDeviceLogin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const username, password = "device-user", "device-pw"
	issuer := startDeviceOP(t, username, password, []string{"device-users"})

	// A second JWT mount in Vault trusts this provider.
	vault := stack.Vault.Client()
	if err := vault.Do(ctx, "POST", "/v1/sys/auth/jwt-device", map[string]any{"type": "jwt"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := vault.Do(ctx, "POST", "/v1/auth/jwt-device/config", map[string]any{"oidc_discovery_url": issuer}, nil); err != nil {
		t.Fatal(err)
	}
	const profile = "device"
	if err := stack.SetupProfile(ctx, nil, teststack.ProfileSpec{Name: profile, Roles: []string{"device-users"}, ClientID: deviceClientID,
		NomadRules: readJobs, ConsulRules: readKV, Mounts: teststack.Mounts{JWT: "jwt-device"}}); err != nil {
		t.Fatal(err)
	}

	u := newUser(t)
	u.env["ALILOGIN_ISSUER"] = issuer
	u.env["ALILOGIN_CLIENT_ID"] = deviceClientID
	u.env["ALILOGIN_JWT_MOUNT"] = "jwt-device"
	// No DISPLAY and an SSH session: the device flow is chosen by itself.
	u.env["SSH_CONNECTION"] = "127.0.0.1 50000 127.0.0.1 22"
	p := u.start(t, "login", "--profile", profile, "--json")
	complete := p.waitLine(t, deviceURL, time.Minute)
	code := p.waitLine(t, deviceCode, time.Minute)
	if !strings.Contains(complete, code) {
		t.Errorf("complete URL %q lacks the user code %q", complete, code)
	}
	b, err := teststack.NewBrowser()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Open(ctx, issuer+"/device"); err != nil {
		t.Fatal(err)
	}
	// The provider's own pages: user code, then username and password,
	// then allow.
	if err := b.Fill(ctx, map[string]string{"#user_code": code}, "button[type=submit]"); err != nil {
		t.Fatal(err)
	}
	if err := b.Fill(ctx, map[string]string{"#username": username, "#password": password}, "button[type=submit]"); err != nil {
		t.Fatal(err)
	}
	if err := b.Fill(ctx, nil, "button.green"); err != nil {
		t.Fatal(err)
	}
	if code, err := p.wait(time.Minute); err != nil || code != 0 {
		t.Fatalf("exit %d (%v); stderr:\n%s", code, err, p.stderr.String())
	}
	st, _ := store.Open("", u.getenv, nil)
	rec, err := st.Get(profile)
	if err != nil || rec.Vault == nil || rec.Nomad == nil || rec.Consul == nil {
		t.Fatalf("record %+v, %v", rec, err)
	}
	t.Cleanup(func() { _ = st.Delete(profile) })
	noLeaks(t, p, rec.Vault.Secret, rec.Nomad.Secret, rec.Consul.Secret, rec.RefreshToken)
	if !strings.Contains(p.stdout.String(), `"profile": "device"`) || !strings.Contains(p.stderr.String(), "Logged in as device-user") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", p.stdout.String(), p.stderr.String())
	}
}

// TestDeviceLoginWithoutDeviceFlow: `login --device` at an SSO without
// a device authorization endpoint (Hydra has none) fails before any
// sign-in, and says how to sign in from a remote machine instead: the
// browser of one's own machine through `ssh -L` port forwarding and
// `login --no-browser --listen`.
func TestDeviceLoginWithoutDeviceFlow(t *testing.T) {
	u := newUser(t)
	p := u.run(t, "login", "--device", "--profile", "ci-user")
	errText := p.stderr.String()
	if p.code() != 1 {
		t.Errorf("exit %d, want 1; stderr:\n%s", p.code(), errText)
	}
	for _, want := range []string{"does not offer the device flow", "ssh -L 8250:127.0.0.1:8250", "alilogin login --no-browser --listen 127.0.0.1:8250"} {
		if !strings.Contains(errText, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errText)
		}
	}
}
