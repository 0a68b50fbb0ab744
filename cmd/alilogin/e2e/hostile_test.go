package e2e

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/teststack"
)

// noControls fails when out holds a control character other than a
// newline or a tab, or a character that reorders text.
func noControls(t *testing.T, what, out string) {
	t.Helper()
	for _, r := range out {
		if (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r < 0xa0) || r == 0x202e {
			t.Errorf("%s holds %U:\n%q", what, r, out)
			return
		}
	}
}

var nmounts atomic.Int32

var regexpRefused = regexp.MustCompile(`(?m)^\((refused a request to the callback with a wrong or missing state)`)

// hostileSSO starts a hostile OpenID provider with o and a JWT mount of
// the stack's Vault that trusts it, and returns a user pointed at both
// (over TLS with o.HTTP2TLS, its certificate in the user's
// SSL_CERT_FILE) and the mount's name.
func hostileSSO(t *testing.T, ctx context.Context, o hostile.OIDCOptions) (*hostile.OIDCProvider, *user, string) {
	t.Helper()
	p := hostile.NewOIDCProvider(o)
	t.Cleanup(p.Close)
	mount := fmt.Sprintf("jwt-hostile-%d", nmounts.Add(1))
	vault := stack.Vault.Client()
	if err := vault.Do(ctx, "POST", "/v1/sys/auth/"+mount, map[string]any{"type": "jwt"}, nil); err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{"oidc_discovery_url": p.Issuer}
	u := newUser(t)
	if o.HTTP2TLS {
		// Vault and alilogin trust the provider's certificate.
		ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.Certificate().Raw})
		cfg["oidc_discovery_ca_pem"] = string(ca)
		u.env["SSL_CERT_FILE"] = filepath.Join(u.home, "sso-ca.pem")
		if err := os.WriteFile(u.env["SSL_CERT_FILE"], ca, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := vault.Do(ctx, "POST", "/v1/auth/"+mount+"/config", cfg, nil); err != nil {
		t.Fatal(err)
	}
	u.env["ALILOGIN_ISSUER"] = p.Issuer
	u.env["ALILOGIN_CLIENT_ID"] = "alilogin"
	u.env["ALILOGIN_JWT_MOUNT"] = mount
	return p, u, mount
}

// TestHostileSSOTextOnTerminal: a hostile SSO puts escape sequences in
// the device flow's verification URI and user code and in the user, name
// and role claims. login's output (text and --json), status's output
// (text and --json) and the refusal that lists the user's roles carry
// none of them.
func TestHostileSSOTextOnTerminal(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, u, mount := hostileSSO(t, ctx, hostile.OIDCOptions{
		Claims: map[string]any{
			"cern_upn":   "mallory" + hostile.EscClear,
			"name":       "Mallory" + hostile.EscTitle,
			"cern_roles": []string{"hostile-users", "evil" + hostile.EscTitle + hostile.EscC1 + hostile.EscBidi},
		},
		VerificationURI:         "https://sso.example/device" + hostile.EscTitle,
		VerificationURIComplete: "https://sso.example/device?code=1" + hostile.EscClear,
		UserCode:                "WDJB" + hostile.EscClear + "MJHT",
		Interval:                1,
		DevicePolls:             []string{"authorization_pending", ""},
	})
	profile, other := "hostile-"+mount, "hostile-other-"+mount
	for _, spec := range []teststack.ProfileSpec{
		{Name: profile, Roles: []string{"hostile-users"}, ClientID: "alilogin", NomadRules: readJobs, ConsulRules: readKV, Mounts: teststack.Mounts{JWT: mount}},
		{Name: other, Roles: []string{"someone-else"}, ClientID: "alilogin", Mounts: teststack.Mounts{JWT: mount}},
	} {
		if err := stack.SetupProfile(ctx, nil, spec); err != nil {
			t.Fatal(err)
		}
	}
	u.deleteAtEnd(t, profile)

	lp := u.run(t, "login", "--device", "--profile", profile, "--json")
	if lp.code() != 0 {
		t.Fatalf("login: exit %d; stderr:\n%s", lp.code(), lp.stderr.String())
	}
	noControls(t, "login's stderr", lp.stderr.String())
	noControls(t, "login's stdout", lp.stdout.String())
	for _, want := range []string{"https://sso.example/device?]0;pwned?", "WDJB?[2J?[HMJHT", "Logged in as mallory?[2J?[H (Mallory?]0;pwned?)", "evil?]0;pwned??31m?"} {
		if !strings.Contains(lp.stderr.String(), want) {
			t.Errorf("login's stderr lacks %q:\n%s", want, lp.stderr.String())
		}
	}
	// --json is the same data, escaped.
	var sum summary
	if err := json.Unmarshal([]byte(lp.stdout.String()), &sum); err != nil {
		t.Fatalf("login --json: %v\n%s", err, lp.stdout.String())
	}
	if sum.User != "mallory"+hostile.EscClear || len(sum.Roles) != 2 || sum.Roles[1] != "evil"+hostile.EscTitle+hostile.EscC1+hostile.EscBidi {
		t.Errorf("login --json: user %q, roles %q", sum.User, sum.Roles)
	}

	sp := u.run(t, "status", "--profile", profile)
	if sp.code() != 0 {
		t.Fatalf("status: exit %d; stderr:\n%s", sp.code(), sp.stderr.String())
	}
	noControls(t, "status's stdout", sp.stdout.String())
	noControls(t, "status's stderr", sp.stderr.String())
	if !strings.Contains(sp.stdout.String(), "mallory?[2J?[H") {
		t.Errorf("status:\n%s", sp.stdout.String())
	}
	sj := u.run(t, "status", "--profile", profile, "--json")
	noControls(t, "status --json", sj.stdout.String())
	var js statusOut
	if err := json.Unmarshal([]byte(sj.stdout.String()), &js); err != nil || js.User != "mallory"+hostile.EscClear {
		t.Errorf("status --json: %v, user %q", err, js.User)
	}

	// Vault refuses the other profile; the refusal lists the user's roles.
	rp := u.run(t, "login", "--device", "--profile", other)
	if rp.code() != 1 || !strings.Contains(rp.stderr.String(), "Your SSO roles: hostile-users, evil?]0;pwned??31m?.") {
		t.Errorf("refused login: exit %d; stderr:\n%s", rp.code(), rp.stderr.String())
	}
	noControls(t, "the refusal", rp.stderr.String())

	// No profile given, and none of the configured ones allowed: the
	// message lists the user's roles. (The first login made its profile
	// the current one, which a login without --profile would use.)
	u.ok(t, "use", "--unset")
	u.writeConfig(t, "profile \"nobody\" {\n  roles = [\"someone-else\"]\n}\n")
	np := u.run(t, "login", "--device")
	if np.code() != 1 || !strings.Contains(np.stderr.String(), "(nobody) is allowed for your SSO roles (hostile-users, evil?]0;pwned??31m?)") {
		t.Errorf("no allowed profile: exit %d; stderr:\n%s", np.code(), np.stderr.String())
	}
	noControls(t, "the refusal without a profile", np.stderr.String())
	if n := len(p.DevicePolls()); n < 3 {
		t.Errorf("%d device polls", n)
	}
}

type statusOut struct {
	User  string   `json:"user"`
	Roles []string `json:"roles"`
}

// TestHostileSSOErrorDescription: the token endpoint's error and
// error_description reach the terminal cleaned.
func TestHostileSSOErrorDescription(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, u, _ := hostileSSO(t, ctx, hostile.OIDCOptions{Interval: 1, DevicePolls: []string{"invalid_request" + hostile.EscClear},
		TokenErrorDescription: "bad" + hostile.EscTitle + "\r\nalilogin: logged in as admin"})
	p := u.run(t, "login", "--device", "--profile", "any")
	if p.code() != 1 || !strings.Contains(p.stderr.String(), "refused the device code (invalid_request?[2J?[H: bad?]0;pwned???alilogin: logged in as admin)") {
		t.Errorf("exit %d; stderr:\n%s", p.code(), p.stderr.String())
	}
	noControls(t, "stderr", p.stderr.String())
}

// TestDeviceOutcomeMessages: an expired code, a denied sign-in and
// slow_down each say what happened; slow_down adds 5 s to the polling
// interval.
func TestDeviceOutcomeMessages(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, tc := range []struct {
		name  string
		polls []string
		want  string
	}{
		{"expired", []string{"authorization_pending", "expired_token"}, "alilogin: the code expired before you signed in; run alilogin login again\n"},
		{"denied", []string{"access_denied"}, "alilogin: the sign-in was denied on the other device; run alilogin login again to retry\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, u, _ := hostileSSO(t, ctx, hostile.OIDCOptions{Interval: 1, DevicePolls: tc.polls})
			p := u.run(t, "login", "--device", "--profile", "any")
			if p.code() != 1 || !strings.HasSuffix(p.stderr.String(), tc.want) {
				t.Errorf("exit %d; stderr:\n%s", p.code(), p.stderr.String())
			}
			if strings.Contains(p.stderr.String(), "unreachable") || strings.Contains(p.stderr.String(), "authorization code") {
				t.Errorf("mislabelled:\n%s", p.stderr.String())
			}
		})
	}
	t.Run("expires_in passed", func(t *testing.T) {
		// The code lives 1 s; the first poll is due after 5 s.
		_, u, _ := hostileSSO(t, ctx, hostile.OIDCOptions{ExpiresIn: 1, DevicePolls: []string{"authorization_pending"}})
		p := u.run(t, "login", "--device", "--profile", "any")
		if want := "alilogin: the code expired before you signed in; run alilogin login again\n"; p.code() != 1 || !strings.HasSuffix(p.stderr.String(), want) {
			t.Errorf("exit %d; stderr:\n%s", p.code(), p.stderr.String())
		}
	})
	t.Run("slow_down", func(t *testing.T) {
		sso, u, mount := hostileSSO(t, ctx, hostile.OIDCOptions{Interval: 1,
			Claims:      map[string]any{"cern_upn": "slow", "cern_roles": []string{"slow-users"}},
			DevicePolls: []string{"authorization_pending", "slow_down", ""}})
		profile := "slow-" + mount
		if err := stack.SetupProfile(ctx, nil, teststack.ProfileSpec{Name: profile, Roles: []string{"slow-users"}, ClientID: "alilogin", NomadRules: readJobs, ConsulRules: readKV, Mounts: teststack.Mounts{JWT: mount}}); err != nil {
			t.Fatal(err)
		}
		u.deleteAtEnd(t, profile)
		p := u.run(t, "login", "--device", "--profile", profile)
		if p.code() != 0 || !strings.Contains(p.stderr.String(), "(the SSO asked alilogin to check less often: every 6s now)") {
			t.Fatalf("exit %d; stderr:\n%s", p.code(), p.stderr.String())
		}
		polls := sso.DevicePolls()
		if len(polls) != 3 {
			t.Fatalf("%d polls, want 3", len(polls))
		}
		if gap := polls[1].Sub(polls[0]); gap < 900*time.Millisecond || gap > 3*time.Second {
			t.Errorf("before slow_down: %s between polls, want the SSO's 1s", gap)
		}
		if gap := polls[2].Sub(polls[1]); gap < 6*time.Second-100*time.Millisecond || gap > 8*time.Second {
			t.Errorf("after slow_down: %s between polls, want 1s + 5s", gap)
		}
	})
}

// TestCallbackWrongStateDuringLogin: during a real login at Hydra, a web
// page in the same Chromium loads the callback with no state (an <img>),
// and a plain request brings a forged one: both get 400, the login keeps
// waiting, and the user's sign-in then completes it.
func TestCallbackWrongStateDuringLogin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, profile, name, pw := newLoginUser(t, ctx, "ws-users")
	st := u.deleteAtEnd(t, profile)
	p := u.start(t, "login", "--no-browser", "--listen", "127.0.0.1:0", "--profile", profile)
	authURL := p.waitLine(t, urlLine, time.Minute)
	au, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	redirect := au.Query().Get("redirect_uri")

	// A plain request with a forged state.
	resp, err := http.Get(redirect + "?" + url.Values{"code": {"x"}, "state": {"forged"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("forged state: %d, want 400", resp.StatusCode)
	}
	// A web page with <img src=callback>, in the browser that then signs in.
	var hits atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprintf(w, `<!doctype html><title>cats</title><img src="%s"><img src="%s?error=access_denied&amp;error_description=%s">`,
			redirect, redirect, url.QueryEscape(hostile.EscTitle))
	}))
	defer evil.Close()
	b, err := teststack.NewBrowser()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Open(ctx, evil.URL); err != nil {
		t.Fatal(err)
	}
	p.waitLine(t, regexpRefused, time.Minute)
	if hits.Load() == 0 {
		t.Fatal("the browser did not load the page")
	}
	select {
	case <-p.done:
		t.Fatalf("the login ended (exit %d); stderr:\n%s", p.code(), p.stderr.String())
	default:
	}

	text, err := b.Login(ctx, authURL, name, pw, redirect)
	if err != nil {
		t.Fatalf("browser login: %v\nstderr:\n%s", err, p.stderr.String())
	}
	if code, err := p.wait(time.Minute); err != nil || code != 0 {
		t.Fatalf("exit %d (%v); stderr:\n%s", code, err, p.stderr.String())
	}
	if !strings.Contains(text, "Signed in") {
		t.Errorf("page: %q", text)
	}
	if rec, err := st.Get(profile); err != nil || rec.User != name {
		t.Errorf("record %+v, %v", rec, err)
	}
	noControls(t, "stderr", p.stderr.String())
}

// TestListenOtherLoopback: with --listen 127.0.0.2:PORT the redirect URI
// names 127.0.0.2:PORT, and a login at Hydra (with that redirect URI
// registered) completes; a non-loopback --listen is refused.
func TestListenOtherLoopback(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	want := "http://" + addr + "/callback"
	clientID, err := stack.Hydra.NewClient(ctx, teststack.ClientOptions{RedirectURIs: []string{want}})
	if err != nil {
		t.Fatal(err)
	}
	profile := "listen-" + strings.NewReplacer(".", "-", ":", "-").Replace(addr)
	if err := stack.SetupProfile(ctx, nil, teststack.ProfileSpec{Name: profile, Roles: []string{"listen-users"}, ClientID: clientID, NomadRules: readJobs, ConsulRules: readKV}); err != nil {
		t.Fatal(err)
	}
	name, pw := newUserAccount("listen-users")
	u := newUser(t)
	u.env["ALILOGIN_CLIENT_ID"] = clientID
	u.deleteAtEnd(t, profile)

	p := u.start(t, "login", "--no-browser", "--listen", addr, "--profile", profile)
	authURL := p.waitLine(t, urlLine, time.Minute)
	au, _ := url.Parse(authURL)
	if got := au.Query().Get("redirect_uri"); got != want {
		t.Fatalf("redirect_uri %q, want %q", got, want)
	}
	b, err := teststack.NewBrowser()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.Login(ctx, authURL, name, pw, want); err != nil {
		t.Fatalf("browser login: %v\nstderr:\n%s", err, p.stderr.String())
	}
	if code, err := p.wait(time.Minute); err != nil || code != 0 {
		t.Fatalf("exit %d (%v); stderr:\n%s", code, err, p.stderr.String())
	}

	// A usage error (exit 2), before any sign-in.
	bad := u.run(t, "login", "--no-browser", "--listen", "0.0.0.0:0", "--profile", profile)
	if bad.code() != 2 || !strings.Contains(bad.stderr.String(), `invalid --listen "0.0.0.0:0": only a loopback address`) || strings.Contains(bad.stderr.String(), "http") {
		t.Errorf("--listen 0.0.0.0:0: exit %d; stderr:\n%s", bad.code(), bad.stderr.String())
	}
}

// TestAZPAtLogin: an ID token for two audiences, alilogin's client id
// and another, that names the other client as its authorized party (azp)
// is refused before it reaches Vault (which would accept it: alilogin is
// one of its audiences); with azp = alilogin the login goes through.
func TestAZPAtLogin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, tc := range []struct {
		name string
		azp  any // nil: none
		ok   bool
	}{
		{"azp another client", "other-client", false},
		{"no azp", nil, false},
		{"azp alilogin", "alilogin", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			claims := map[string]any{"aud": []string{"other-client", "alilogin"}, "azp": tc.azp,
				"cern_upn": "azp-user", "cern_roles": []string{"azp-users"}}
			_, u, mount := hostileSSO(t, ctx, hostile.OIDCOptions{Interval: 1, Claims: claims})
			profile := "azp-" + mount
			if err := stack.SetupProfile(ctx, nil, teststack.ProfileSpec{Name: profile, Roles: []string{"azp-users"}, ClientID: "alilogin",
				NomadRules: readJobs, ConsulRules: readKV, Mounts: teststack.Mounts{JWT: mount}}); err != nil {
				t.Fatal(err)
			}
			st := u.deleteAtEnd(t, profile)
			p := u.run(t, "login", "--device", "--profile", profile)
			if tc.ok {
				if p.code() != 0 {
					t.Fatalf("exit %d; stderr:\n%s", p.code(), p.stderr.String())
				}
				return
			}
			if p.code() != 1 || !strings.Contains(p.stderr.String(), "invalid ID token") || strings.Contains(p.stderr.String(), "Vault") {
				t.Errorf("exit %d; stderr:\n%s", p.code(), p.stderr.String())
			}
			if _, err := st.Get(profile); err == nil {
				t.Error("a login was stored")
			}
		})
	}
}
