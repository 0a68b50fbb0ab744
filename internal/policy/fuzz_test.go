package policy

import (
	"errors"
	"os"
	"slices"
	"testing"
	"testing/fstest"
)

// FuzzLoad feeds arbitrary broker.hcl, profiles.hcl and policy documents to
// the loader: it must never panic, must report problems only as *Error
// with positions, and whatever it accepts must be a consistent Config.
//
//	go test -run '^$' -fuzz FuzzLoad -fuzztime 30s ./internal/policy
func FuzzLoad(f *testing.F) {
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	f.Add(read("testdata/minimal/broker.hcl"), read("testdata/minimal/profiles.hcl"), read("testdata/minimal/nomad/jobs-read.hcl"))
	f.Add(read("../../policies/broker.hcl"), read("../../policies/profiles.hcl"), read("../../policies/consul/catalog-kv-read.hcl"))
	f.Add(read("testdata/minimal/broker.hcl"), read("../../policies/profiles.hcl"), read("../../policies/vault/ci-secrets-write.hcl"))
	f.Add([]byte("sso {\n issuer = \"http://x\"\n client_id = \"c\"\n roles_claim = \"/a/~1b\"\n}\nvault {}\n"),
		[]byte("profile \"a\" {\n roles = [\"r\"]\n ttl = \"1h\"\n max_ttl = \"30m\"\n}\nrole \"r\" { vault_policies = [\"secrets-read\"] }\n"),
		[]byte("namespace \"x\" {\n policy = \"read\"\n variables {\n path \"*\" { capabilities = [\"read\"] }\n }\n}\n"))
	f.Add(read("testdata/minimal/broker.hcl"), []byte("profile \"a\" {\n roles = [\"r\"]\n agent {\n read_only = true\n }\n agent \"x\" {}\n}\n"), []byte("node { policy = \"read\" }\n"))
	f.Add([]byte("${"), []byte("profile {"), []byte("\xff\x00"))

	f.Fuzz(func(t *testing.T, broker, profiles, doc []byte) {
		fsys := fstest.MapFS{
			"broker.hcl":             {Data: broker},
			"profiles.hcl":           {Data: profiles},
			"vault/secrets-read.hcl": {Data: doc},
			"nomad/jobs-read.hcl":    {Data: doc},
			"consul/kv-read.hcl":     {Data: doc},
		}
		cfg, err := LoadFS(fsys, "p")
		if err != nil {
			var perr *Error
			if !errors.As(err, &perr) || len(perr.Diagnostics) == 0 {
				t.Fatalf("error is not a non-empty *Error: %v", err)
			}
			_ = perr.Error()
			return
		}
		if cfg.SSO.Issuer == "" || cfg.SSO.ClientID == "" || cfg.Vault.JWTMount == "" {
			t.Fatalf("accepted without sso/vault settings: %+v", cfg)
		}
		docs := map[string][]Document{"vault": cfg.VaultPolicies, "nomad": cfg.NomadPolicies, "consul": cfg.ConsulPolicies}
		has := func(sys, name string) bool {
			return slices.ContainsFunc(docs[sys], func(d Document) bool { return d.Name == name })
		}
		for i, p := range cfg.Profiles {
			if i > 0 && cfg.Profiles[i-1].Name >= p.Name {
				t.Fatalf("profiles not sorted and unique: %v", names(cfg.Profiles))
			}
			if CheckName(p.Name) != nil || len(p.Roles) == 0 || p.TTL <= 0 || p.MaxTTL < p.TTL {
				t.Fatalf("accepted an invalid profile: %+v", p)
			}
			for sys, refs := range map[string][]string{"vault": p.VaultPolicies, "nomad": p.NomadPolicies, "consul": p.ConsulPolicies} {
				for _, r := range refs {
					if !has(sys, r) {
						t.Fatalf("profile %s names missing %s policy %s", p.Name, sys, r)
					}
				}
			}
		}
	})
}
