package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/teststack"
	"github.com/alisw/alilogin/internal/testutil"
)

// deadAddr is a loopback address where nothing listens.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestVaultDown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// A real Vault, killed.
	v, err := stack.StartVault(ctx, teststack.VaultOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v.Kill()
	u := newUser(t)
	u.env["VAULT_ADDR"] = v.Addr
	p := u.run(t, "login", "--no-browser", "--listen", "127.0.0.1:0", "--profile", "x")
	if p.code() != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", p.code(), p.stderr.String())
	}
	if want := "Vault at " + u.env["VAULT_ADDR"] + " is unreachable"; !strings.Contains(p.stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, p.stderr.String())
	}
	if strings.Contains(p.stderr.String(), "oauth2/auth") {
		t.Errorf("the sign-in was offered although Vault is down:\n%s", p.stderr.String())
	}
}

func TestSSODown(t *testing.T) {
	u := newUser(t)
	u.env["ALILOGIN_ISSUER"] = "http://" + deadAddr(t) + "/"
	p := u.run(t, "login", "--no-browser", "--listen", "127.0.0.1:0", "--profile", "x")
	if p.code() != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", p.code(), p.stderr.String())
	}
	if want := "the SSO at " + u.env["ALILOGIN_ISSUER"] + " is unreachable"; !strings.Contains(p.stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, p.stderr.String())
	}
}

// TestNomadDown: Vault's nomad engine points at a Nomad that is down. The
// Vault and Consul tokens are kept, the exit code says partial.
func TestNomadDown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dead := "http://" + deadAddr(t)
	vault := stack.Vault.Client()
	if err := vault.Do(ctx, "POST", "/v1/sys/mounts/nomad-down", map[string]any{"type": "nomad"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := vault.Do(ctx, "POST", "/v1/nomad-down/config/access", map[string]any{"address": dead, "token": stack.Nomad.ManagementToken}, nil); err != nil {
		t.Fatal(err)
	}
	profile := "nomad-down"
	if err := stack.SetupProfile(ctx, nil, teststack.ProfileSpec{Name: profile, Roles: []string{"nd"}, ConsulRules: readKV,
		Mounts: teststack.Mounts{Nomad: "nomad-down"}}); err != nil {
		t.Fatal(err)
	}
	if err := vault.Do(ctx, "POST", "/v1/nomad-down/role/"+profile, map[string]any{"policies": "anything", "type": "client"}, nil); err != nil {
		t.Fatal(err)
	}
	name, pw := newUserAccount("nd")
	u := newUser(t)
	u.env["ALILOGIN_NOMAD_MOUNT"] = "nomad-down"
	p, _ := login(t, ctx, u, name, pw, "--profile", profile)
	if p.code() != 3 {
		t.Fatalf("exit %d, want 3; stderr:\n%s", p.code(), p.stderr.String())
	}
	t.Logf("stderr:\n%s", p.stderr.String())
	for _, want := range []string{"could not get a Nomad token", "nomad-down/creds/" + profile, "nomad:  FAILED"} {
		if !strings.Contains(p.stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, p.stderr.String())
		}
	}
	st, _ := store.Open("", u.getenv, nil)
	rec, err := st.Get(profile)
	if err != nil {
		t.Fatalf("partial login not kept: %v", err)
	}
	t.Cleanup(func() { _ = st.Delete(profile) })
	if rec.Vault == nil || rec.Consul == nil || rec.Nomad != nil {
		t.Fatalf("record keeps vault=%v consul=%v nomad=%v", rec.Vault != nil, rec.Consul != nil, rec.Nomad != nil)
	}
	noLeaks(t, p, rec.Vault.Secret, rec.Consul.Secret, rec.RefreshToken)
}

func TestWrongThenRightPassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, profile, name, pw := newLoginUser(t, ctx, "pw-users")
	p := u.start(t, "login", "--no-browser", "--listen", "127.0.0.1:0", "--profile", profile)
	b := openLoginPage(t, ctx, p)
	if err := b.SubmitLogin(ctx, name, "wrong-password"); err != nil {
		t.Fatal(err)
	}
	var text string
	if !testutil.EventuallyEvery(20*time.Second, 50*time.Millisecond, func() bool {
		text, _ = b.Text(ctx)
		return strings.Contains(text, "Invalid username or password")
	}) {
		t.Fatalf("after a wrong password the page says: %q", text)
	}
	if err := b.SubmitLogin(ctx, name, pw); err != nil {
		t.Fatal(err)
	}
	if code, err := p.wait(time.Minute); err != nil || code != 0 {
		t.Fatalf("exit %d (%v); stderr:\n%s", code, err, p.stderr.String())
	}
	u.deleteAtEnd(t, profile)
}

func TestStoreFallback(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	profile := newProfile(t, ctx, "fb-users")
	name, pw := newUserAccount("fb-users")

	check := func(t *testing.T, u *user, p *proc, notice string) {
		t.Helper()
		if p.code() != 0 {
			t.Fatalf("exit %d; stderr:\n%s", p.code(), p.stderr.String())
		}
		if !strings.Contains(p.stderr.String(), notice) {
			t.Errorf("stderr lacks the notice %q:\n%s", notice, p.stderr.String())
		}
		dir := filepath.Join(u.env["XDG_STATE_HOME"], "alilogin", "records")
		fi, err := os.Stat(filepath.Join(dir, profile+".json"))
		if err != nil {
			t.Fatalf("no record file: %v", err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("record file mode %v, want 0600", fi.Mode().Perm())
		}
		if di, _ := os.Stat(dir); di.Mode().Perm() != 0o700 {
			t.Errorf("store directory mode %v, want 0700", di.Mode().Perm())
		}
		rec, err := store.NewFile(dir).Get(profile)
		if err != nil || rec.Vault == nil || rec.Nomad == nil || rec.Consul == nil {
			t.Fatalf("file record: %v", err)
		}
		noLeaks(t, p, rec.Vault.Secret, rec.Nomad.Secret, rec.Consul.Secret, rec.RefreshToken)
		if _, err := store.NewKeyring(0, 0).Get(profile); err != store.ErrNotFound {
			t.Errorf("keyring also has the record: %v", err)
		}
	}
	t.Run("no secret service", func(t *testing.T) {
		u := newUser(t)
		u.env["DBUS_SESSION_BUS_ADDRESS"] = fmt.Sprintf("unix:path=%s/no-bus", t.TempDir())
		p, _ := login(t, ctx, u, name, pw, "--profile", profile)
		check(t, u, p, "no OS keyring reachable")
	})
	t.Run("too large for the keyring", func(t *testing.T) {
		u := newUser(t)
		u.env["ALILOGIN_KEYRING_MAX_BYTES"] = "256"
		p, _ := login(t, ctx, u, name, pw, "--profile", profile)
		check(t, u, p, "the login is too large for the OS keyring")
	})
}

// TestWrongNomadAddrAtLogin: NOMAD_ADDR names a server where nothing
// listens. Vault's engine mints the Nomad token (it talks to the real
// Nomad), but the token cannot be checked where it will be sent: the
// login says so, naming the address and what failed, keeps the tokens
// and exits 3 (partial), instead of a blank "policies:" and exit 0.
func TestWrongNomadAddrAtLogin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, profile, name, pw := newLoginUser(t, ctx, "wrong-nomad-addr")
	u.env["ALILOGIN_STORE"] = "file"
	dead := "http://" + deadAddr(t)
	u.env["NOMAD_ADDR"] = dead
	p, _ := login(t, ctx, u, name, pw, "--profile", profile)
	errText := p.stderr.String()
	if p.code() != 3 {
		t.Fatalf("exit %d, want 3 (partial); stderr:\n%s", p.code(), errText)
	}
	want := "could not check the new Nomad token at " + dead + ": Nomad at " + dead + " is unreachable"
	if !strings.Contains(errText, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errText)
	}
	if !strings.Contains(errText, "NOT CHECKED") || strings.Contains(errText, "policies: \n") {
		t.Errorf("the summary shows the Nomad token as checked:\n%s", errText)
	}
	st, err := store.Open("file", u.getenv, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := st.Get(profile)
	if err != nil || rec.Nomad == nil || rec.Consul == nil {
		t.Fatalf("the login is not kept with its tokens: %v", err)
	}
	noLeaks(t, p, rec.Vault.Secret, rec.Nomad.Secret, rec.Consul.Secret, rec.RefreshToken)
}
