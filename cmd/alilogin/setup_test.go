package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/discovery"
	"github.com/alisw/alilogin/internal/testutil"
)

func setupDoc() discovery.Document {
	return discovery.Document{
		Version: 1,
		SSO:     discovery.SSO{Issuer: "https://sso.example/", ClientID: "alilogin", RolesClaim: "cern_roles", UserClaim: "cern_upn"},
		Vault:   discovery.Vault{Addr: "https://vault.example:8200", JWTMount: "jwt", NomadMount: "nomad", ConsulMount: "consul"},
		Nomad:   discovery.Server{Addr: "https://nomad.example:4646"},
		Profiles: []discovery.Profile{
			{Name: "ci", Description: "CI users", Roles: []string{"alice-ci-users"}, Nomad: true, Consul: true, MaxTTL: "8h0m0s"},
			{Name: "ops", Roles: []string{"alice-ops"}},
		},
	}
}

func runSetupCmd(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"setup"}, args...), &cmdEnv{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return env[k] },
	})
	return code, out.String(), errb.String()
}

func TestSetup(t *testing.T) {
	doc := setupDoc()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != discovery.Path {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(doc)
	}))
	defer srv.Close()
	env := testutil.Home(t, nil)
	path := filepath.Join(env["XDG_CONFIG_HOME"], "alilogin", config.FileName)

	t.Run("fresh", func(t *testing.T) {
		code, out, errOut := runSetupCmd(t, env, "--broker", srv.URL+"/")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, want := range []string{"PROFILE", "ci", "alice-ci-users", "vault+nomad+consul", "CI users", "ops"} {
			if !strings.Contains(out, want) {
				t.Errorf("stdout lacks %q:\n%s", want, out)
			}
		}
		c, err := config.LoadFile(path)
		if err != nil || c.Broker != srv.URL {
			t.Fatalf("config file: %+v, %v", c, err)
		}
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("config file mode: %v %v", st, err)
		}
		cached, err := config.ReadDiscoveryCache(filepath.Dir(path), srv.URL)
		if err != nil || cached.Vault.Addr != doc.Vault.Addr {
			t.Fatalf("cache: %v %v", cached, err)
		}
	})

	t.Run("keeps other settings", func(t *testing.T) {
		if err := os.WriteFile(path, []byte("# mine\nstore = \"file\"\nvault {\n  address = \"https://other:8200\"\n}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if code, _, errOut := runSetupCmd(t, env, "--broker", srv.URL, "--default-profile", "ci"); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		c, err := config.LoadFile(path)
		if err != nil || c.Broker != srv.URL || c.Store != "file" || c.Vault.Addr != "https://other:8200" || c.DefaultProfile != "ci" {
			t.Fatalf("config file: %+v, %v", c, err)
		}
		b, _ := os.ReadFile(path)
		if !strings.Contains(string(b), "# mine") {
			t.Errorf("comment lost:\n%s", b)
		}
		// The file wins over discovery; discovery fills the rest.
		r, err := config.Resolve(config.Sources{Getenv: func(k string) string { return env[k] },
			Discover: config.Discoverer(context.Background(), srv.Client(), "")})
		if err != nil {
			t.Fatal(err)
		}
		if r.Vault.Addr != "https://other:8200" || r.ClientID != "alilogin" || r.Nomad.Addr != doc.Nomad.Addr || len(r.Profiles) != 2 {
			t.Fatalf("resolved: %+v", r)
		}
	})

	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no broker", nil, exitUsage, "--broker is required"},
		{"bad URL", []string{"--broker", "broker.example"}, exitUsage, "invalid broker URL"},
		{"unknown default", []string{"--broker", srv.URL, "--default-profile", "nope"}, exitError, "has no profile \"nope\"; it has: ci, ops"},
		{"not a broker", []string{"--broker", srv.URL + "/elsewhere"}, exitError, "404"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runSetupCmd(t, env, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.msg) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errOut, tc.code, tc.msg)
			}
		})
	}
}

// TestSetupHostileDocument: a broker's document cannot drive the terminal
// with escape sequences, and a profile name that no login could use is
// refused before anything is written.
func TestSetupHostileDocument(t *testing.T) {
	doc := setupDoc()
	srv, env, path := setupBroker(t, &doc)

	doc.SSO.ClientID = "cli\x1b]0;pwned\x07"
	doc.Profiles[0].Description = "CI\x1b[2J\x1b[31m users\u009b"
	doc.Profiles[0].Roles = []string{"alice-ci-users\r\nFAKE"}
	code, out, errOut := runSetupCmd(t, env, "--broker", srv.URL)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.ContainsAny(out+errOut, "\x1b\x07\r\u009b") {
		t.Errorf("control characters from the document reach the terminal:\n%q\n%q", out, errOut)
	}
	if !strings.Contains(out, "CI?[2J?[31m users?") || !strings.Contains(errOut, "client cli?]0;pwned?") {
		t.Errorf("stdout %q, stderr %q", out, errOut)
	}

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	doc = setupDoc()
	doc.Profiles = append(doc.Profiles, discovery.Profile{Name: "../evil", Roles: []string{"r"}})
	code, _, errOut = runSetupCmd(t, env, "--broker", srv.URL)
	if code != exitError || !strings.Contains(errOut, `invalid profile name "../evil"`) {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("config file written for an unusable document: %v", err)
	}
}

// TestSetupHostileConfiguration: setup refuses a plain-HTTP broker that is
// not on loopback (unless the user opted in), and a document whose mounts
// would leave their mount or whose addresses are plain HTTP, before writing
// anything.
func TestSetupHostileConfiguration(t *testing.T) {
	doc := setupDoc()
	srv, env, path := setupBroker(t, &doc)

	code, _, errOut := runSetupCmd(t, env, "--broker", "http://broker.example:8080")
	if code != exitUsage || !strings.Contains(errOut, "--broker: plain http://") || !strings.Contains(errOut, "insecure_http = true") {
		t.Errorf("http broker: exit %d, stderr %q", code, errOut)
	}
	for name, edit := range map[string]func(*discovery.Document){
		"nomad mount":  func(d *discovery.Document) { d.Vault.NomadMount = "../../sys/policies/acl" },
		"jwt mount":    func(d *discovery.Document) { d.Vault.JWTMount = "jwt//x" },
		"vault http":   func(d *discovery.Document) { d.Vault.Addr = "http://vault.example:8200" },
		"issuer http":  func(d *discovery.Document) { d.SSO.Issuer = "http://sso.example" },
		"consul creds": func(d *discovery.Document) { d.Consul.Addr = "https://u:p@consul.example" },
	} {
		t.Run(name, func(t *testing.T) {
			doc = setupDoc()
			edit(&doc)
			code, _, errOut := runSetupCmd(t, env, "--broker", srv.URL)
			if code != exitError || !strings.Contains(errOut, "unusable discovery document: the discovery document of "+srv.URL) {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Errorf("config file written for a hostile document: %v", err)
			}
		})
	}
	t.Run("opted in", func(t *testing.T) {
		doc = setupDoc()
		doc.Vault.Addr = "http://vault.example:8200"
		env := maps.Clone(env)
		env["ALILOGIN_INSECURE_HTTP"] = "true"
		if code, _, errOut := runSetupCmd(t, env, "--broker", srv.URL); code != 0 {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
	})
}

// setupBroker is a broker serving *doc as it is at each request (closed
// when t ends), a fresh home, and the config file setup writes there.
func setupBroker(t *testing.T, doc *discovery.Document) (srv *httptest.Server, env map[string]string, path string) {
	t.Helper()
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(*doc)
	}))
	t.Cleanup(srv.Close)
	env = testutil.Home(t, nil)
	return srv, env, filepath.Join(env["XDG_CONFIG_HOME"], "alilogin", config.FileName)
}
