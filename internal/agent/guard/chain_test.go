package guard

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/discovery"
	"github.com/alisw/alilogin/internal/policy"
	"github.com/alisw/alilogin/internal/serve"
	"github.com/alisw/alilogin/internal/store"
)

// The admin's agent { read_only = true } on the shipped example's
// ci-user travels policies/ -> the broker's discovery document -> the
// user's resolved configuration -> Rules, and a user's config file
// cannot take it away.
func TestReadOnlyTravelsFromPoliciesToRules(t *testing.T) {
	m := fstest.MapFS{}
	root := os.DirFS("../../../policies")
	if err := fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(root, p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	prof := string(m["profiles.hcl"].Data)
	marked := strings.Replace(prof, "  consul_policies = [\"catalog-kv-read\"]\n", "  consul_policies = [\"catalog-kv-read\"]\n  agent {\n    read_only = true\n  }\n", 1)
	if marked == prof {
		t.Fatal("ci-user not found in policies/profiles.hcl")
	}
	m["profiles.hcl"] = &fstest.MapFile{Data: []byte(marked)}
	pc, err := policy.LoadFS(m, "policies")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(serve.Discovery(pc, serve.Public{VaultAddr: "https://vault.example:8200"}))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := discovery.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "config.hcl")
	// The user "narrows" ci-user to nothing and ci-admin to read-only.
	src := "broker = \"https://broker.example\"\n" +
		"profile \"ci-user\" {\n  agent {\n    read_only = false\n  }\n}\n" +
		"profile \"ci-admin\" {\n  agent {\n    read_only = true\n  }\n}\n"
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Resolve(config.Sources{
		Getenv:   func(k string) string { return map[string]string{"ALILOGIN_CONFIG": file}[k] },
		Discover: func(string) (config.Config, error) { return config.FromDiscovery(doc), nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	write := wire(t, "PUT", "/v1/kv/ci/x")
	for _, c := range []struct {
		profile string
		refused bool
		by      string
	}{
		{"ci-user", true, config.AgentReadOnlyByBroker},
		{"ci-admin", true, "the config file " + file},
		{"build-operator", false, ""},
	} {
		d := Check(store.Consul, write, FromConfig(cfg, c.profile))
		if (d.Reason == ReadOnly) != c.refused || (c.refused && !strings.Contains(d.Refuse, "("+c.by+")")) {
			t.Errorf("%s: %+v", c.profile, d)
		}
		if d := Check(store.Consul, wire(t, "GET", "/v1/kv/ci/x"), FromConfig(cfg, c.profile)); d.Refuse != "" {
			t.Errorf("%s: read refused: %s", c.profile, d.Refuse)
		}
	}
}
