package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/teststack"
	"github.com/alisw/alilogin/internal/testutil"
)

// kvUser is a session user of a fresh profile that may read
// secret/<profile>/allowed (KV v2) and kv1/<profile>/allowed (KV v1), and
// not secret/<profile>/denied; the three secrets exist, and
// secret/<profile>/missing, which it may read, does not.
func kvUser(t *testing.T, ctx context.Context, roles string) (*user, string) {
	t.Helper()
	profile := sessionProfile(t, ctx, "1h", teststack.Mounts{}, roles)
	if err := stack.EnsureKV(ctx, "kv1", 1); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		mount   string
		version int
		path    string
		data    map[string]any
	}{
		{"secret", 2, profile + "/allowed", map[string]any{"password": "v2-pass-" + profile, "port": 8443}},
		{"secret", 2, profile + "/denied", map[string]any{"password": "denied-pass-" + profile}},
		{"kv1", 1, profile + "/allowed", map[string]any{"token": "v1-token-" + profile}},
	} {
		if err := stack.PutKV(ctx, s.mount, s.version, s.path, s.data); err != nil {
			t.Fatal(err)
		}
	}
	rules := `path "secret/data/` + profile + `/allowed" { capabilities = ["read"] }
path "secret/data/` + profile + `/missing" { capabilities = ["read"] }
path "kv1/` + profile + `/allowed" { capabilities = ["read"] }
`
	if err := stack.GrantVaultPolicy(ctx, profile, "kv-"+profile, rules); err != nil {
		t.Fatal(err)
	}
	u := sessionUser(t, profile, teststack.Mounts{})
	seed(t, ctx, u, profile, roles)
	run := filepath.Join(u.home, "run")
	if err := os.Mkdir(run, 0o700); err != nil {
		t.Fatal(err)
	}
	u.env["XDG_RUNTIME_DIR"] = run
	return u, profile
}

// TestExecSecrets: --secret and --secret-file on the real Vault, KV v2
// and v1, a path the profile may read and one it may not, one it may
// read that does not exist.
func TestExecSecrets(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, profile := kvUser(t, ctx, "kv-users")
	v2, v1 := "v2-pass-"+profile, "v1-token-"+profile

	t.Run("env and file", func(t *testing.T) {
		p := u.run(t, "exec", "--secret", "PASS=secret/"+profile+"/allowed#password", "--secret", "PORT=secret/"+profile+"/allowed#port",
			"--secret", "TOK=kv1/"+profile+"/allowed#token", "--secret-file", "PASS_FILE=secret/"+profile+"/allowed#password", "--",
			"sh", "-c", `printf '%s|%s|%s|%s|' "$PASS" "$PORT" "$TOK" "$PASS_FILE"; cat "$PASS_FILE"; printf '|'; stat -c '%a' "$PASS_FILE" "$(dirname "$PASS_FILE")" | tr '\n' '|'; exit 3`)
		if p.code() != 3 {
			t.Fatalf("exit %d, want COMMAND's 3; stderr:\n%s", p.code(), p.stderr.String())
		}
		f := strings.Split(p.stdout.String(), "|")
		if len(f) < 7 || f[0] != v2 || f[1] != "8443" || f[2] != v1 || f[4] != v2 || f[5] != "600" || f[6] != "700" {
			t.Fatalf("COMMAND saw %q", p.stdout.String())
		}
		if !strings.HasPrefix(f[3], u.env["XDG_RUNTIME_DIR"]+"/") {
			t.Errorf("secret file %s is not under XDG_RUNTIME_DIR %s", f[3], u.env["XDG_RUNTIME_DIR"])
		}
		if _, err := os.Stat(filepath.Dir(f[3])); !os.IsNotExist(err) {
			t.Errorf("the secrets directory is still there after COMMAND ended: %v", err)
		}
		if strings.Contains(p.stderr.String(), v2) || strings.Contains(p.stderr.String(), v1) {
			t.Errorf("a secret value is on stderr:\n%s", p.stderr.String())
		}
	})

	for _, c := range []struct {
		name, spec, want string
	}{
		{"denied", "X=secret/" + profile + "/denied#password", "permission denied"},
		{"missing path", "X=secret/" + profile + "/missing#password", "not found"},
		{"missing field", "X=secret/" + profile + "/allowed#nofield", `no field "nofield"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := u.run(t, "exec", "--secret", "OK=secret/"+profile+"/allowed#password", "--secret", c.spec, "--", "sh", "-c", "echo started")
			path, _, _ := strings.Cut(strings.TrimPrefix(c.spec, "X="), "#")
			errText := p.stderr.String()
			if p.code() != 1 || strings.Contains(p.stdout.String(), "started") {
				t.Fatalf("exit %d, stdout %q: COMMAND must not start; stderr:\n%s", p.code(), p.stdout.String(), errText)
			}
			for _, w := range []string{path, "profile " + profile, c.want} {
				if !strings.Contains(errText, w) {
					t.Errorf("the error lacks %q:\n%s", w, errText)
				}
			}
			if strings.Contains(errText, v2) || strings.Contains(errText, "denied-pass-") {
				t.Errorf("a secret value is in the error:\n%s", errText)
			}
		})
	}

	t.Run("bad flag", func(t *testing.T) {
		if p := u.run(t, "exec", "--secret", "no-field-here", "--", "true"); p.code() != 2 {
			t.Errorf("exit %d, want 2; stderr:\n%s", p.code(), p.stderr.String())
		}
	})

	t.Run("signal removes the file", func(t *testing.T) {
		p := u.start(t, "exec", "--secret-file", "F=secret/"+profile+"/allowed#password", "--",
			"sh", "-c", `trap 'exit 42' TERM; echo "$F"; while :; do sleep 0.05; done`)
		var file string
		testutil.Eventually(30*time.Second, func() bool {
			file = strings.TrimSpace(p.stdout.String())
			return file != ""
		})
		if b, err := os.ReadFile(file); err != nil || string(b) != v2 {
			t.Fatalf("secret file %q while COMMAND runs: %v", file, err)
		}
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if c, err := p.wait(30 * time.Second); err != nil || c != 42 {
			t.Fatalf("exit %d (%v), want COMMAND's 42; stderr:\n%s", c, err, p.stderr.String())
		}
		if _, err := os.Stat(filepath.Dir(file)); !os.IsNotExist(err) {
			t.Errorf("the secrets directory is still there after the signal: %v", err)
		}
	})
}

// TestExecSecretsInParallel: two --secret reads are both at the real
// Vault (behind a proxy that holds the first answer) before either answer
// comes back.
func TestExecSecretsInParallel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, profile := kvUser(t, ctx, "kvpar-users")
	px, err := hostile.NewHoldProxy(stack.Vault.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(px.Close)
	u.ok(t, "token", "--for", "vault") // the login, straight at Vault
	u.env["VAULT_ADDR"] = px.URL
	// The login's binding is the real Vault's address: the proxy is
	// another origin, so bind the record to the proxy.
	rec := mustRecord(t, u, profile)
	rec.VaultAddr = ""
	putRecord(t, u, rec)
	isData := func(suffix string) func(*http.Request) bool {
		return func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, suffix) }
	}
	h1 := px.HoldNext(isData("/v1/secret/data/" + profile + "/allowed"))
	h2 := px.HoldNext(isData("/v1/kv1/" + profile + "/allowed"))
	p := u.start(t, "exec", "--secret", "A=secret/"+profile+"/allowed#password", "--secret", "B=kv1/"+profile+"/allowed#token", "--",
		"sh", "-c", `echo "$A|$B"`)
	for _, h := range []*hostile.Hold{h1, h2} {
		select {
		case <-h.Arrived():
		case <-p.done:
			t.Fatalf("alilogin ended first; stderr:\n%s", p.stderr.String())
		case <-time.After(time.Minute):
			t.Fatalf("the reads were not in flight together; stderr:\n%s", p.stderr.String())
		}
	}
	h1.Release()
	h2.Release()
	if c, err := p.wait(time.Minute); err != nil || c != 0 || strings.TrimSpace(p.stdout.String()) != "v2-pass-"+profile+"|v1-token-"+profile {
		t.Fatalf("exit %d (%v), stdout %q; stderr:\n%s", c, err, p.stdout.String(), p.stderr.String())
	}
}

// TestExecSecretFileCtrlC: Ctrl-C at a real terminal (tmux) reaches
// COMMAND once, from the terminal: alilogin, waiting to remove the secret
// file, does not send it a second one; the file goes when COMMAND ends.
func TestExecSecretFileCtrlC(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, profile := kvUser(t, ctx, "kvint-users")
	u.env["PATH"] = filepath.Dir(bin) + ":" + os.Getenv("PATH")
	u.env["TERM"] = "xterm-256color"
	goFile := filepath.Join(u.home, "go")
	c := startTTY(t, u.environ(), "bash", "--norc", "--noprofile", "-i")
	c.typeLine(`PS1='PROMPT> '`)
	c.waitPrompt()
	script := `n=0; trap 'n=$((n+1)); echo got-int-$n' INT; echo "ready $F"; while [ ! -e ` + goFile + ` ]; do sleep 0.05; done; echo "ints=$n"; test -f "$F" && echo file-there`
	c.typeLine("alilogin exec --secret-file F=secret/" + profile + "/allowed#password -- sh -c " + shellQuote(script) + "; echo EXIT=$?")
	file := c.waitFor(regexp.MustCompile(`(?m)^ready (\S+)$`))
	c.tmuxCmd("send-keys", "-t", "0", "C-c")
	c.waitFor(regexp.MustCompile(`(got-int-1)`))
	if err := os.WriteFile(goFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c.waitFor(regexp.MustCompile(`(?m)^(EXIT=\d+)$`))
	screen := c.screen()
	if !strings.Contains(screen, "ints=1\nfile-there\nEXIT=0") {
		t.Errorf("COMMAND did not see exactly one SIGINT with its file in place; screen:\n%s", screen)
	}
	if _, err := os.Stat(filepath.Dir(file)); !os.IsNotExist(err) {
		t.Errorf("the secrets directory %s is still there: %v", filepath.Dir(file), err)
	}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
