package shellenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHookRefreshesWhenRerouteVariableAppears: in every shell, a
// variable that a refresh would unset (VAULT_AGENT_ADDR, BAO_*,
// SSL_CERT_FILE without a CA file...) set after the last refresh makes
// the next prompt refresh at once, not when the tokens need renewing;
// a proxy variable, and SSL_CERT_FILE while the exported server has its
// CA file, do not.
func TestHookRefreshesWhenRerouteVariableAppears(t *testing.T) {
	for _, c := range []struct {
		set     map[string]string
		refresh bool
	}{
		{map[string]string{"VAULT_AGENT_ADDR": "http://127.0.0.1:1"}, true},
		{map[string]string{"VAULT_PROXY_ADDR": "http://127.0.0.1:1"}, true},
		{map[string]string{"VAULT_SKIP_VERIFY": ""}, true},
		{map[string]string{"BAO_ADDR": "http://127.0.0.1:1"}, true},
		{map[string]string{"BAO_TOKEN": ""}, true},
		{map[string]string{"CONSUL_GRPC_ADDR": "127.0.0.1:1"}, true},
		{map[string]string{"SSL_CERT_FILE": "/tmp/evil.pem"}, true},
		{map[string]string{"SSL_CERT_FILE": "/tmp/evil.pem", "VAULT_CACERT": "/etc/ca.pem"}, false},
		{map[string]string{"VAULT_CAPATH": "/tmp/evil"}, true},
		{map[string]string{"HTTPS_PROXY": "http://127.0.0.1:1", "NO_PROXY": "x"}, false},
	} {
		for sh, argv := range shellArgv {
			t.Run(fmt.Sprint(sh, c.set), func(t *testing.T) {
				dir := t.TempDir()
				count := filepath.Join(dir, "count")
				var refresh strings.Builder
				refresh.WriteString(exportLine(sh, "VAULT_TOKEN", "v"))
				HookState{Next: time.Now().Add(time.Hour), NextUptime: 1 << 50, Exported: []string{"VAULT_TOKEN"}, Addrs: "||"}.Write(&refresh, sh)
				fakeAlilogin(t, dir, refresh.String(), count)
				snippet := hookSnippet(t, sh)
				var set, unset strings.Builder
				for k, v := range c.set {
					set.WriteString(exportLine(sh, k, v))
					if sh == "fish" {
						unset.WriteString("set -e " + k + "\n")
					} else {
						unset.WriteString("unset " + k + "\n")
					}
				}
				eval := `eval "$SNIPPET"` + "\n"
				if sh == "fish" {
					eval = "echo $SNIPPET | source\n"
				}
				code := eval + "__alilogin_hook\n__alilogin_hook\n" + set.String() + "__alilogin_hook\n" + unset.String() + "__alilogin_hook\n"
				cmd := exec.Command(argv[0], append(argv[1:], code)...)
				cmd.Env = []string{"PATH=" + dir + ":" + os.Getenv("PATH"), "SNIPPET=" + snippet, "HOME=" + dir}
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				b, err := os.ReadFile(count)
				if err != nil {
					t.Fatal(err)
				}
				want := 1
				if c.refresh {
					want = 2
				}
				if n := strings.Count(string(b), "x"); n != want {
					t.Errorf("%d refreshes, want %d", n, want)
				}
			})
		}
	}
}
