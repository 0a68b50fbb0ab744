package e2e

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/clientcert"
	"github.com/alisw/alilogin/internal/plan"
	"github.com/alisw/alilogin/internal/policy"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/teststack"
)

// mtlsStack is a Nomad and a Consul that require client certificates
// signed by the test Vault's PKI, with Vault's nomad and consul engines
// and a profile set up for them the way `broker apply` makes it
// (plan.ProfilePolicyText, plan.PKIRoleFields).
type mtlsStack struct {
	pki           *teststack.VaultPKI
	nomad         *teststack.Nomad
	consul        *teststack.Consul
	profile, user string
	pw            string
	// The Vault mounts of this stack's PKI and engines.
	pkiMount, nomadMount, consulMount string
}

var nmtls atomic.Int32

// startMTLS starts an mTLS stack; each has its own mounts and profile.
func startMTLS(t *testing.T, ctx context.Context, certTTL time.Duration) *mtlsStack {
	t.Helper()
	return startMTLSWith(t, ctx, certTTL, mtlsRules{nomad: readJobs, consul: `node_prefix "" { policy = "read" }`})
}

// mtlsRules are the profile's ACL rules in Nomad and Consul, and extra
// Vault policies of its JWT role.
type mtlsRules struct {
	nomad, consul string
	vault         []string
}

// startMTLSWith is startMTLS with the profile's rules r.
func startMTLSWith(t *testing.T, ctx context.Context, certTTL time.Duration, r mtlsRules) *mtlsStack {
	t.Helper()
	n := fmt.Sprint(nmtls.Add(1))
	mtlsPKI, mtlsNomad, mtlsConsul := "pki-mtls"+n, "nomad-mtls"+n, "consul-mtls"+n
	pki, err := stack.EnablePKI(ctx, mtlsPKI)
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := pki.ServerCert(ctx, "servers")
	if err != nil {
		t.Fatal(err)
	}
	st := &teststack.ServerTLS{CA: pki.CA, Cert: cert, Key: key}
	nomad, err := stack.StartNomad(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	consul, err := stack.StartConsul(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	m := &mtlsStack{pki: pki, nomad: nomad, consul: consul, profile: "mtls-ci" + n, pkiMount: mtlsPKI, nomadMount: mtlsNomad, consulMount: mtlsConsul}
	v := stack.Vault.Client()
	if err := stack.EnsureMounts(ctx, nil, teststack.Mounts{}); err != nil { // the JWT mount
		t.Fatal(err)
	}
	pem := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	mustVault := func(method, path string, body any, out any) {
		t.Helper()
		if err := v.Do(ctx, method, path, body, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	mustVault("POST", "/v1/sys/mounts/"+mtlsNomad, map[string]any{"type": "nomad"}, nil)
	mustVault("POST", "/v1/"+mtlsNomad+"/config/access", map[string]any{"address": nomad.Addr, "token": nomad.ManagementToken,
		"ca_cert": pem(pki.CA), "client_cert": pem(cert), "client_key": pem(key)}, nil)
	mustVault("POST", "/v1/sys/mounts/"+mtlsConsul, map[string]any{"type": "consul"}, nil)
	mustVault("POST", "/v1/"+mtlsConsul+"/config/access", map[string]any{"address": strings.TrimPrefix(consul.Addr, "https://"), "scheme": "https",
		"token": consul.ManagementToken, "ca_cert": pem(pki.CA), "client_cert": pem(cert), "client_key": pem(key)}, nil)

	// ACL policies, the Vault roles, the PKI role and the profile policy.
	np, cp := m.profile+"-nomad", m.profile+"-consul"
	if err := nomad.Client().Do(ctx, "POST", "/v1/acl/policy/"+np, map[string]any{"Name": np, "Rules": r.nomad}, nil); err != nil {
		t.Fatal(err)
	}
	if err := consul.Client().Do(ctx, "PUT", "/v1/acl/policy", map[string]any{"Name": cp, "Rules": r.consul}, nil); err != nil {
		t.Fatal(err)
	}
	mustVault("POST", "/v1/"+mtlsNomad+"/role/"+m.profile, map[string]any{"policies": np, "type": "client"}, nil)
	mustVault("POST", "/v1/"+mtlsConsul+"/roles/"+m.profile, map[string]any{"consul_policies": []string{cp}, "ttl": "1h"}, nil)
	pv := policy.Vault{JWTMount: "jwt", NomadMount: mtlsNomad, ConsulMount: mtlsConsul, PKIMount: mtlsPKI}
	pp := policy.Profile{Name: m.profile, NomadPolicies: []string{np}, ConsulPolicies: []string{cp}, TTL: time.Hour, MaxTTL: 2 * time.Hour,
		ClientCert: policy.ClientCert{TTL: certTTL}}
	mustVault("PUT", "/v1/sys/policies/acl/"+policy.ProfilePolicy(m.profile), map[string]any{"policy": plan.ProfilePolicyText(pv, pp)}, nil)
	var auths struct {
		Data map[string]struct{ Accessor string } `json:"data"`
	}
	mustVault("GET", "/v1/sys/auth", nil, &auths)
	role := map[string]any{}
	for k, val := range plan.PKIRoleFields(pp) {
		role[k] = val
	}
	role["allowed_domains"] = []string{plan.AliasTemplate(auths.Data["jwt/"].Accessor)}
	mustVault("POST", "/v1/"+mtlsPKI+"/roles/"+m.profile, role, nil)
	mustVault("POST", "/v1/auth/jwt/role/"+m.profile, map[string]any{
		"role_type": "jwt", "bound_audiences": []string{stack.Hydra.ClientID}, "user_claim": "cern_upn", "groups_claim": "cern_roles",
		"bound_claims": map[string]any{"cern_roles": []string{"mtls-users"}}, "token_policies": append([]string{policy.ProfilePolicy(m.profile)}, r.vault...),
		"token_ttl": "1h", "token_max_ttl": "2h",
	}, nil)
	m.user, m.pw = newUserAccount("mtls-users")
	return m
}

// userFor is a user pointed at the mTLS servers, with the PKI mount
// configured and a private runtime directory.
func (m *mtlsStack) userFor(t *testing.T) *user {
	u := newUser(t)
	rt := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(rt, 0o700); err != nil {
		t.Fatal(err)
	}
	u.env["XDG_RUNTIME_DIR"] = rt
	u.env["NOMAD_ADDR"] = m.nomad.Addr
	u.env["NOMAD_CACERT"] = m.pki.CA
	u.env["CONSUL_HTTP_ADDR"] = strings.TrimPrefix(m.consul.Addr, "https://")
	u.env["CONSUL_HTTP_SSL"] = "true"
	u.env["CONSUL_CACERT"] = m.pki.CA
	u.env["ALILOGIN_PKI_MOUNT"] = m.pkiMount
	u.env["ALILOGIN_NOMAD_MOUNT"] = m.nomadMount
	u.env["ALILOGIN_CONSUL_MOUNT"] = m.consulMount
	return u
}

// cli runs a real nomad or consul CLI with env (no alilogin).
func cli(t *testing.T, env []string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binPath(t, name), args...)
	cmd.Env = append([]string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestClientCertMTLS: the whole path of issue 12 on the real servers.
func TestClientCertMTLS(t *testing.T) {
	t.Parallel() // its own Nomad and Consul; most of it waits for the certificate's expiry
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const certTTL = 20 * time.Second
	m := startMTLS(t, ctx, certTTL)
	u := m.userFor(t)
	u.env["PATH"] = filepath.Dir(binPath(t, "nomad")) + string(os.PathListSeparator) + filepath.Dir(binPath(t, "consul")) + string(os.PathListSeparator) + u.env["PATH"]

	p := loginOK(t, ctx, u, m.user, m.pw, "login", "--profile", m.profile, "-v")
	t.Logf("login stderr:\n%s", p.stderr.String())
	if ms := regexp.MustCompile(`\[client certificate: (\S+)\]`).FindStringSubmatch(p.stderr.String()); ms != nil {
		t.Logf("MEASURE: the client certificate added %s to login", ms[1])
	}
	st, err := store.Open("", u.getenv, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := st.Get(m.profile)
	if err != nil || rec.ClientCert == nil {
		t.Fatalf("record %+v, %v; want a client certificate", rec, err)
	}
	noLeaks(t, p, rec.ClientCert.Key, rec.Vault.Secret)
	first := rec.ClientCert
	if first.Subject != "CN="+m.user {
		t.Errorf("subject %q, want CN=%s", first.Subject, m.user)
	}

	// The files: 0700 directory under XDG_RUNTIME_DIR, 0600 files.
	dir := filepath.Join(u.env["XDG_RUNTIME_DIR"], "alilogin", m.profile)
	paths := clientcert.PathsIn(dir)
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("directory %s: %v", dir, err)
	}
	for _, f := range []string{paths.Cert, paths.Key, paths.CA} {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, want 0600", f, err)
		}
	}

	// status shows subject, serial and expiry.
	sp := u.run(t, "status", "--profile", m.profile)
	if out := sp.stdout.String(); !strings.Contains(out, "CN="+m.user) || !strings.Contains(out, first.Serial) {
		t.Errorf("status lacks the certificate:\n%s", out)
	}

	// With alilogin: the real CLIs get through.
	for _, args := range [][]string{{"nomad", "job", "status"}, {"consul", "members"}} {
		ep := u.run(t, append([]string{"exec", "--profile", m.profile, "--min-ttl", "1s", "--"}, args...)...)
		if ep.code() != 0 {
			t.Errorf("alilogin exec -- %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), ep.code(), ep.stdout.String(), ep.stderr.String())
		}
	}
	// Without the certificate (token and CA only): refused by both.
	if out, err := cli(t, []string{"NOMAD_ADDR=" + m.nomad.Addr, "NOMAD_CACERT=" + m.pki.CA, "NOMAD_TOKEN=" + rec.Nomad.Secret.Reveal()}, "nomad", "job", "status"); err == nil {
		t.Errorf("nomad without a client certificate succeeded:\n%s", out)
	}
	if out, err := cli(t, []string{"CONSUL_HTTP_ADDR=" + strings.TrimPrefix(m.consul.Addr, "https://"), "CONSUL_HTTP_SSL=true", "CONSUL_CACERT=" + m.pki.CA,
		"CONSUL_HTTP_TOKEN=" + rec.Consul.Secret.Reveal()}, "consul", "members"); err == nil {
		t.Errorf("consul without a client certificate succeeded:\n%s", out)
	}

	// A CSR naming another user is refused by Vault, with this user's token.
	v, err := apiclient.New("Vault", stack.Vault.Addr, "X-Vault-Token", apiclient.TLS{}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := clientcert.Sign(ctx, v.WithToken(rec.Vault.Secret), m.pkiMount, m.profile, "someone-else", 0); apiclient.StatusOf(err) != 400 {
		t.Errorf("signing another user's name: %v; want Vault's 400", err)
	}

	// Expired: Nomad refuses the files; alilogin env replaces the
	// certificate without a browser (nothing signs in here).
	wctx, wcancel := context.WithTimeout(ctx, certTTL+30*time.Second)
	defer wcancel()
	if err := teststack.WaitUntil(wctx, "the certificate's expiry", func() bool { return time.Now().After(first.NotAfter.Add(time.Second)) }); err != nil {
		t.Fatal(err)
	}
	withFiles := []string{"NOMAD_ADDR=" + m.nomad.Addr, "NOMAD_CACERT=" + m.pki.CA, "NOMAD_TOKEN=" + rec.Nomad.Secret.Reveal(),
		"NOMAD_CLIENT_CERT=" + paths.Cert, "NOMAD_CLIENT_KEY=" + paths.Key}
	if out, err := cli(t, withFiles, "nomad", "job", "status"); err == nil {
		t.Errorf("nomad accepted an expired certificate:\n%s", out)
	}
	envp := u.run(t, "env", "--profile", m.profile, "--min-ttl", "1s")
	if envp.code() != 0 {
		t.Fatalf("env: exit %d; stderr:\n%s", envp.code(), envp.stderr.String())
	}
	if out := envp.stdout.String(); !strings.Contains(out, "NOMAD_CLIENT_CERT="+shq(paths.Cert)) || !strings.Contains(out, "CONSUL_CLIENT_KEY="+shq(paths.Key)) {
		t.Errorf("env lacks the certificate files:\n%s", out)
	}
	rec2, err := st.Get(m.profile)
	if err != nil || rec2.ClientCert == nil || rec2.ClientCert.Serial == first.Serial || !rec2.ClientCert.ValidFor(time.Now(), 0) {
		t.Fatalf("after env: %+v, %v; want a new valid certificate", rec2.ClientCert, err)
	}
	if out, err := cli(t, withFiles, "nomad", "job", "status"); err != nil {
		t.Errorf("nomad with the renewed files: %v\n%s", err, out)
	}
	tp := u.run(t, "token", "--profile", m.profile, "--for", "nomad", "--min-ttl", "1s")
	if tp.code() != 0 {
		t.Errorf("token: exit %d: %s", tp.code(), tp.stderr.String())
	}

	// Expired again, and the Nomad token due too: the chain signs the new
	// certificate first and its own check of the re-minted token at Nomad
	// (which reads the token's policies) presents it, not the expired one.
	second, err := st.Get(m.profile)
	if err != nil || second.ClientCert == nil || second.Nomad == nil {
		t.Fatalf("record before the second expiry: %+v, %v", second, err)
	}
	wctx2, wcancel2 := context.WithTimeout(ctx, certTTL+30*time.Second)
	defer wcancel2()
	if err := teststack.WaitUntil(wctx2, "the second certificate's expiry", func() bool { return time.Now().After(second.ClientCert.NotAfter.Add(time.Second)) }); err != nil {
		t.Fatal(err)
	}
	// Without policies of its own, the new token has those the chain's
	// lookup at Nomad reads, or none (the chain keeps the old token's).
	second.Nomad.ExpiresAt, second.Nomad.Policies = time.Now(), nil
	if err := st.Put(second); err != nil {
		t.Fatal(err)
	}
	if tp := u.run(t, "token", "--profile", m.profile, "--for", "nomad", "--min-ttl", "1s"); tp.code() != 0 {
		t.Fatalf("token after the second expiry: exit %d: %s", tp.code(), tp.stderr.String())
	}
	third, err := st.Get(m.profile)
	if err != nil || third.ClientCert == nil || third.ClientCert.Serial == second.ClientCert.Serial || third.Nomad.Secret.Equal(second.Nomad.Secret) {
		t.Fatalf("after token: %+v, %v; want a new certificate and a new Nomad token", third, err)
	}
	if !slices.Contains(third.Nomad.Policies, m.profile+"-nomad") {
		t.Errorf("the re-minted Nomad token's policies %v: the chain's check at Nomad did not get through with the new certificate", third.Nomad.Policies)
	}
	rec2 = third // the login logout revokes below

	// A certificate configured by hand wins in env.
	hand := &user{home: u.home, env: maps.Clone(u.env)}
	hand.env["NOMAD_CLIENT_CERT"], hand.env["NOMAD_CLIENT_KEY"] = "/grid/usercert.pem", "/grid/userkey.pem"
	hp := hand.run(t, "env", "--profile", m.profile, "--min-ttl", "1s")
	if out := hp.stdout.String(); !strings.Contains(out, "NOMAD_CLIENT_CERT="+shq("/grid/usercert.pem")) || !strings.Contains(out, "CONSUL_CLIENT_CERT="+shq(paths.Cert)) {
		t.Errorf("env with a grid certificate in NOMAD_CLIENT_CERT:\n%s\n%s", out, hp.stderr.String())
	}

	// logout revokes the certificate and deletes the files.
	lp := u.run(t, "logout", "--profile", m.profile)
	if lp.code() != 0 {
		t.Fatalf("logout: exit %d; stderr:\n%s", lp.code(), lp.stderr.String())
	}
	revoked, err := m.pki.RevokedSerials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(revoked, rec2.ClientCert.Serial) {
		t.Errorf("serial %s not in %s/certs/revoked %v", rec2.ClientCert.Serial, m.pkiMount, revoked)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s left after logout: %v", dir, err)
	}
}

// TestLogoutRemovesEveryCopy: env from a cron job (no XDG_RUNTIME_DIR:
// the files go under the state directory) and from an ssh session
// (another runtime directory) write the certificate and its key where
// that environment keeps them; a logout from the desktop removes every
// copy, so that no key of a certificate that passes mTLS until it
// expires is left on disk.
func TestLogoutRemovesEveryCopy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	m := startMTLS(t, ctx, time.Hour)
	u := m.userFor(t)
	loginOK(t, ctx, u, m.user, m.pw, "login", "--profile", m.profile)
	cron := &user{home: u.home, env: maps.Clone(u.env)}
	delete(cron.env, "XDG_RUNTIME_DIR")
	ssh := &user{home: u.home, env: maps.Clone(u.env)}
	ssh.env["XDG_RUNTIME_DIR"] = filepath.Join(t.TempDir(), "ssh-run")
	if err := os.Mkdir(ssh.env["XDG_RUNTIME_DIR"], 0o700); err != nil {
		t.Fatal(err)
	}
	for name, e := range map[string]*user{"cron": cron, "ssh": ssh} {
		if p := e.run(t, "env", "--profile", m.profile); p.code() != 0 {
			t.Fatalf("env from %s: exit %d; stderr:\n%s", name, p.code(), p.stderr.String())
		}
	}
	// Wherever alilogin writes: the home (state, config), every runtime
	// directory.
	roots := []string{u.home, u.env["XDG_RUNTIME_DIR"], ssh.env["XDG_RUNTIME_DIR"]}
	keyFiles := func() []string {
		var out []string
		for _, root := range roots {
			_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err == nil && (d.Name() == clientcert.KeyFile || d.Name() == clientcert.CertFile) {
					out = append(out, p)
				}
				return nil
			})
		}
		return out
	}
	if n := len(keyFiles()); n != 6 {
		t.Fatalf("%d key and certificate files after login and env from cron and ssh, want 6: %v", n, keyFiles())
	}
	lp := u.run(t, "logout", "--profile", m.profile)
	if lp.code() != 0 {
		t.Fatalf("logout: exit %d; stderr:\n%s", lp.code(), lp.stderr.String())
	}
	if left := keyFiles(); len(left) > 0 {
		t.Errorf("after logout from the desktop, left on disk: %v\nlogout stderr:\n%s", left, lp.stderr.String())
	}
}

func binPath(t *testing.T, name string) string {
	t.Helper()
	p, err := teststack.Bin(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// shq is how env quotes a value for sh.
func shq(s string) string { return "'" + s + "'" }
