package policy

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// minimal returns testdata/minimal as a MapFS, with edits applied (an
// empty content removes the file).
func minimal(t testing.TB, edits map[string]string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	root := os.DirFS("testdata/minimal")
	err := fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(root, p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for p, c := range edits {
		if c == "" {
			delete(m, p)
			continue
		}
		m[p] = &fstest.MapFile{Data: []byte(c)}
	}
	return m
}

func TestLoadMinimal(t *testing.T) {
	cfg, err := LoadFS(minimal(t, nil), "p")
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Dir:   "p",
		SSO:   SSO{Issuer: "https://sso.example.org/realms/test", ClientID: "alilogin-test", RolesClaim: "cern_roles", UserClaim: "cern_upn"},
		Vault: Vault{JWTMount: "jwt", NomadMount: "nomad", ConsulMount: "consul"},
		Profiles: []Profile{{Name: "reader", Description: "reads", Roles: []string{"readers"}, VaultPolicies: []string{"secrets-read"},
			NomadPolicies: []string{"jobs-read"}, ConsulPolicies: []string{"kv-read"}, TTL: DefaultTTL, MaxTTL: DefaultMaxTTL, DirectLogin: DirectOff, File: "p/profiles.hcl"}},
		VaultPolicies:  []Document{{Name: "secrets-read", File: "vault/secrets-read.hcl"}},
		NomadPolicies:  []Document{{Name: "jobs-read", File: "nomad/jobs-read.hcl"}},
		ConsulPolicies: []Document{{Name: "kv-read", File: "consul/kv-read.hcl"}},
	}
	if d := cmp.Diff(want, cfg, cmpopts.IgnoreFields(Document{}, "Rules")); d != "" {
		t.Errorf("config (-want +got):\n%s", d)
	}
}

func TestWarnings(t *testing.T) {
	cfg, err := LoadFS(minimal(t, map[string]string{
		"nomad/spare.hcl": "node { policy = \"read\" }\n",
		"roles.hcl":       "role \"nobody-has-it\" {\n  vault_policies = [\"secrets-read\"]\n}\n",
	}), "p")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`p/nomad/spare.hcl:1:1: nomad policy "spare" is not used by any profile or role; it is applied all the same`,
		`p/roles.hcl:1:6: role "nobody-has-it" is in no profile, so nobody gets its policies through a login`,
	}
	if d := cmp.Diff(want, cfg.Warnings); d != "" {
		t.Errorf("warnings (-want +got):\n%s", d)
	}
}

func TestLoadALICEExample(t *testing.T) {
	cfg, err := Load("../../policies")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings on the example: %v", cfg.Warnings)
	}
	type short struct {
		Name                string
		Roles, Vault, Nomad []string
		Consul              []string
		TTL, MaxTTL         time.Duration
	}
	var got []short
	for _, p := range cfg.Profiles {
		got = append(got, short{p.Name, p.Roles, p.VaultPolicies, p.NomadPolicies, p.ConsulPolicies, p.TTL, p.MaxTTL})
	}
	want := []short{
		{"build-operator", []string{"alice-build-operators"}, []string{"build-secrets-read"}, []string{"build-submit-jobs", "node-read"}, []string{"catalog-kv-read", "services-kv-write"}, 30 * time.Minute, 4 * time.Hour},
		{"ci-admin", []string{"alice-ci-admins"}, []string{"ci-secrets-read", "ci-secrets-write"}, []string{"ci-read-jobs", "ci-submit-jobs"}, []string{"catalog-kv-read", "ci-service-kv-write"}, time.Hour, 8 * time.Hour},
		{"ci-user", []string{"alice-ci-admins", "alice-ci-users"}, []string{"ci-secrets-read"}, []string{"ci-read-jobs"}, []string{"catalog-kv-read"}, time.Hour, 12 * time.Hour},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("profiles (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"build-operator", "ci-admin", "ci-user"}, names(cfg.ProfilesFor([]string{"alice-ci-admins", "alice-build-operators"}))); d != "" {
		t.Errorf("ProfilesFor: %s", d)
	}
	if got := cfg.RolePolicies([]string{"alice-ci-admins"}); !cmp.Equal(got, []string{"ci-secrets-audit"}) {
		t.Errorf("RolePolicies = %v", got)
	}
}

func names(ps []Profile) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

const profileWith = "profile \"reader\" {\n  roles = [\"readers\"]\n%s\n}\n"

func TestLoadProblems(t *testing.T) {
	tests := []struct {
		name  string
		edits map[string]string
		want  []string // every diagnostic, without the "p/" prefix
	}{
		{"malformed HCL", map[string]string{"profiles.hcl": "profile \"a\" {\n  roles = [\"x\"\n}\n"},
			[]string{"profiles.hcl:3:1: Missing item separator: Expected a comma to mark the beginning of the next item."}},
		{"missing policy", map[string]string{"nomad/jobs-read.hcl": ""},
			[]string{`profiles.hcl:5:22: Missing policy: nomad policy "jobs-read" is not defined: want the file p/nomad/jobs-read.hcl`}},
		{"duplicate profile", map[string]string{"zz.hcl": "profile \"reader\" {\n  roles = [\"x\"]\n}\n"},
			[]string{`zz.hcl:1:9: Duplicate profile: profile "reader" is already declared at p/profiles.hcl:1:9`}},
		{"max_ttl < ttl", map[string]string{"profiles.hcl": strings.Replace(profileWith, "%s", "  ttl = \"2h\"\n  max_ttl = \"90m\"", 1)},
			[]string{"profiles.hcl:4:13: Invalid max_ttl: max_ttl (1h30m0s) is shorter than ttl (2h0m0s)"}},
		{"max_ttl < default ttl", map[string]string{"profiles.hcl": strings.Replace(profileWith, "%s", "  max_ttl = \"10m\"", 1)},
			[]string{"profiles.hcl:3:13: Invalid max_ttl: max_ttl (10m0s) is shorter than ttl (1h0m0s)"}},
		{"unparsable ttl", map[string]string{"profiles.hcl": strings.Replace(profileWith, "%s", "  ttl = \"one hour\"", 1)},
			[]string{`profiles.hcl:3:9: Invalid ttl: "one hour" is not a duration (want e.g. 30m, 8h)`}},
		{"empty roles", map[string]string{"profiles.hcl": "profile \"a\" {\n  roles = []\n}\n"},
			[]string{`profiles.hcl:2:11: Empty roles: profile "a" lists no SSO role, so nobody could use it`}},
		{"no roles", map[string]string{"profiles.hcl": "profile \"a\" {\n}\n"},
			[]string{`profiles.hcl:1:13: Missing required argument: The argument "roles" is required, but no definition was found.`}},
		{"unknown attribute", map[string]string{"profiles.hcl": strings.Replace(profileWith, "%s", "  token_ttl = \"1h\"", 1)},
			[]string{`profiles.hcl:3:3: Unsupported argument: An argument named "token_ttl" is not expected here.`}},
		{"unknown block", map[string]string{"more.hcl": "policy \"x\" {}\n"},
			[]string{`more.hcl:1:1: Unsupported block type: Blocks of type "policy" are not expected here.`}},
		{"bad claim pointer", map[string]string{"broker.hcl": "sso {\n  issuer = \"https://x\"\n  client_id = \"c\"\n  roles_claim = \"/a/~x\"\n}\nvault {}\n"},
			[]string{`broker.hcl:4:17: Invalid roles_claim: JSON pointer "/a/~x": '~' must be followed by 0 or 1 (RFC 6901)`}},
		{"claim neither name nor pointer", map[string]string{"broker.hcl": "sso {\n  issuer = \"https://x\"\n  client_id = \"c\"\n  user_claim = \"a/b\"\n}\nvault {}\n"},
			[]string{`broker.hcl:4:16: Invalid user_claim: "a/b" is neither a claim name nor a JSON pointer: a JSON pointer starts with '/'`}},
		{"no sso block", map[string]string{"broker.hcl": "vault {}\n"},
			[]string{"broker.hcl:1:1: Missing sso block: the sso block is required (usually in broker.hcl)"}},
		{"two vault blocks", map[string]string{"more.hcl": "vault {}\n"},
			[]string{"more.hcl:1:1: Duplicate vault block: the vault block is already declared at p/broker.hcl:6:1"}},
		{"variables are not allowed", map[string]string{"profiles.hcl": strings.Replace(profileWith, "%s", "  description = var.x", 1)},
			[]string{`profiles.hcl:3:17: Variables not allowed: Variables may not be used here.`}},
		{"invalid Nomad policy", map[string]string{"nomad/jobs-read.hcl": "namespace \"default\" {\n  policy = \"admin\"\n}\n"},
			[]string{`nomad/jobs-read.hcl:2:12: Invalid value: Nomad policy "admin" is not one of deny, read, write, scale`}},
		{"invalid Nomad capability", map[string]string{"nomad/jobs-read.hcl": "namespace \"default\" {\n  capabilities = [\"read-job\", \"submit-jobs\"]\n}\n"},
			[]string{`nomad/jobs-read.hcl:2:31: Invalid value: Nomad capability "submit-jobs" is not one of deny, list-jobs, parse-job, read-job, submit-job, dispatch-job, read-logs, read-fs, alloc-exec, alloc-lifecycle, alloc-node-exec, csi-write-volume, csi-mount-volume, csi-read-volume, csi-list-volume, csi-register-plugin, list-scaling-policies, read-scaling-policy, read-job-scaling, scale-job, sentinel-override, submit-recommendation`}},
		{"Nomad block without label", map[string]string{"nomad/jobs-read.hcl": "namespace {\n  policy = \"read\"\n}\n"},
			[]string{`nomad/jobs-read.hcl:1:1: Missing label: a "namespace" block takes one label, e.g. namespace "name" { ... }`}},
		{"Consul typo", map[string]string{"consul/kv-read.hcl": "key-prefix \"\" {\n  policy = \"read\"\n}\n"},
			[]string{`consul/kv-read.hcl:1:1: Unsupported block type: Consul policies have no "key-prefix" block here; did you mean "key_prefix"?`}},
		{"Consul unknown block", map[string]string{"consul/kv-read.hcl": "partition \"x\" {\n  policy = \"read\"\n}\n"},
			[]string{`consul/kv-read.hcl:1:1: Unsupported block type: Consul policies have no "partition" block here; want one of agent, agent_prefix, event, event_prefix, key, key_prefix, node, node_prefix, query, query_prefix, service, service_prefix, session, session_prefix`}},
		{"Vault capability", map[string]string{"vault/secrets-read.hcl": "path \"kv/*\" {\n  capabilities = [\"reed\"]\n}\n"},
			[]string{`vault/secrets-read.hcl:2:19: Invalid value: Vault capability "reed" is not one of create, read, update, patch, delete, list, sudo, deny`}},
		{"empty policy", map[string]string{"vault/secrets-read.hcl": "# nothing\n"},
			[]string{`vault/secrets-read.hcl:1:1: Empty policy: a Vault policy document must grant or deny something`}},
		{"reserved Vault name", map[string]string{"vault/alilogin-profile-x.hcl": "path \"a\" { capabilities = [\"read\"] }\n"},
			[]string{`vault/alilogin-profile-x.hcl:1:1: Reserved policy name: the vault policy name "alilogin-profile-x" is reserved: the broker generates the policies named alilogin-profile-<profile>; rename the file`}},
		{"bad file name", map[string]string{"nomad/Jobs_Read.hcl": "node { policy = \"read\" }\n"},
			[]string{`nomad/Jobs_Read.hcl:1:1: Invalid policy file name: "Jobs_Read" is not a valid name: want 1 to 64 of a-z, 0-9 and '-', starting with a letter or digit`}},
		{"several problems at once", map[string]string{
			"profiles.hcl":        "profile \"a\" {\n  roles = [\"x\"]\n  vault_policies = [\"nope\"]\n  max_ttl = \"1m\"\n}\n",
			"nomad/jobs-read.hcl": "node { policy = \"all\" }\n"},
			[]string{
				`nomad/jobs-read.hcl:1:17: Invalid value: Nomad policy "all" is not one of read, write, deny`,
				`profiles.hcl:3:21: Missing policy: vault policy "nope" is not defined: want the file p/vault/nope.hcl`,
				`profiles.hcl:4:13: Invalid max_ttl: max_ttl (1m0s) is shorter than ttl (1h0m0s)`,
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantDiagnostics(t, tc.edits, tc.want)
		})
	}
}

func TestCheckClaim(t *testing.T) {
	for claim, ok := range map[string]bool{
		"cern_roles": true, "/resource_access/alilogin/roles": true, "/a~1b/~0c": true, "groups": true,
		"": false, "a/b": false, "/a//b": false, "/a/~2": false, "/a/~": false, "with space": false, "/": false,
	} {
		if err := CheckClaim(claim); (err == nil) != ok {
			t.Errorf("CheckClaim(%q) = %v, want ok=%v", claim, err, ok)
		}
	}
}

// onDisk copies testdata/minimal to a new folder and returns it.
func onDisk(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "p")
	if err := os.CopyFS(dir, os.DirFS("testdata/minimal")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// moveAway moves dir/rel out of the folder and links it back, as
// configuration management deploys files.
func moveAway(t *testing.T, dir, rel string) {
	t.Helper()
	elsewhere := filepath.Join(t.TempDir(), "deployed-"+filepath.Base(rel))
	if err := os.Rename(filepath.Join(dir, rel), elsewhere); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, filepath.Join(dir, rel)); err != nil {
		t.Fatal(err)
	}
}

func TestLoadFollowsSymlinks(t *testing.T) {
	dir := onDisk(t)
	moveAway(t, dir, "profiles.hcl")
	moveAway(t, dir, "nomad/jobs-read.hcl")
	moveAway(t, dir, "consul")
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(cfg.Profiles); !cmp.Equal(got, []string{"reader"}) {
		t.Errorf("profiles = %v, want [reader]", got)
	}
	if len(cfg.NomadPolicies) != 1 || cfg.NomadPolicies[0].Name != "jobs-read" || !strings.Contains(cfg.NomadPolicies[0].Rules, "policy") {
		t.Errorf("nomad policies = %+v, want jobs-read with its rules", cfg.NomadPolicies)
	}
	if len(cfg.ConsulPolicies) != 1 {
		t.Errorf("consul policies = %+v, want kv-read from the linked folder", cfg.ConsulPolicies)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings: %v", cfg.Warnings)
	}
}

func TestLoadBrokenSymlinks(t *testing.T) {
	tests := []struct {
		name string
		make func(t *testing.T, dir string)
		want string // the one diagnostic, without the folder
	}{
		{"dangling profiles.hcl", func(t *testing.T, dir string) {
			must(t, os.Remove(filepath.Join(dir, "profiles.hcl")))
			must(t, os.Symlink("/nonexistent/profiles.hcl", filepath.Join(dir, "profiles.hcl")))
		}, `profiles.hcl:1:1: Broken symbolic link: {dir}/profiles.hcl is a symbolic link to "/nonexistent/profiles.hcl", which does not exist`},
		{"looping profiles.hcl", func(t *testing.T, dir string) {
			must(t, os.Remove(filepath.Join(dir, "profiles.hcl")))
			must(t, os.Symlink("loop.hcl.x", filepath.Join(dir, "profiles.hcl")))
			must(t, os.Symlink("profiles.hcl", filepath.Join(dir, "loop.hcl.x")))
		}, `profiles.hcl:1:1: Broken symbolic link: {dir}/profiles.hcl is a symbolic link to "loop.hcl.x" that cannot be followed: too many levels of symbolic links`},
		{"dangling policy document", func(t *testing.T, dir string) {
			must(t, os.Remove(filepath.Join(dir, "nomad", "jobs-read.hcl")))
			must(t, os.Symlink("gone.hcl", filepath.Join(dir, "nomad", "jobs-read.hcl")))
		}, `nomad/jobs-read.hcl:1:1: Broken symbolic link: {dir}/nomad/jobs-read.hcl is a symbolic link to "gone.hcl", which does not exist`},
		{"link to a directory", func(t *testing.T, dir string) {
			must(t, os.Symlink("nomad", filepath.Join(dir, "more.hcl")))
		}, `more.hcl:1:1: Not a regular file: {dir}/more.hcl is a symbolic link to "nomad", a directory, not a file`},
		{"directory named .hcl", func(t *testing.T, dir string) {
			must(t, os.Mkdir(filepath.Join(dir, "more.hcl"), 0o755))
		}, `more.hcl:1:1: Not a regular file: {dir}/more.hcl is a directory, not a file`},
		{"dangling policy folder", func(t *testing.T, dir string) {
			must(t, os.RemoveAll(filepath.Join(dir, "consul")))
			must(t, os.Symlink("/nonexistent/consul", filepath.Join(dir, "consul")))
		}, `consul:1:1: Broken symbolic link: {dir}/consul is a symbolic link to "/nonexistent/consul", which does not exist`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := onDisk(t)
			tc.make(t, dir)
			_, err := Load(dir)
			perr, ok := err.(*Error)
			if !ok {
				t.Fatalf("Load = %v, want *Error", err)
			}
			var got []string
			for _, d := range perr.Diagnostics {
				got = append(got, strings.ReplaceAll(strings.TrimPrefix(FormatDiagnostic(d), dir+"/"), dir, "{dir}"))
			}
			// A dangling policy folder also loses the policy the profile
			// names: that follows from the first and is expected.
			if d := cmp.Diff(tc.want, got[0]); d != "" {
				t.Errorf("diagnostics %q (-want +got first):\n%s", got, d)
			}
		})
	}
}

func TestLoadHiddenFileWarns(t *testing.T) {
	dir := onDisk(t)
	// An editor's lock file: a dangling link, hidden.
	must(t, os.Symlink("user@host.1234", filepath.Join(dir, ".#profiles.hcl")))
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{dir + "/.#profiles.hcl:1:1: hidden file left out (only files not starting with '.' are read)"}
	if d := cmp.Diff(want, cfg.Warnings); d != "" {
		t.Errorf("warnings (-want +got):\n%s", d)
	}
}

func TestLoadRefusesNoProfile(t *testing.T) {
	for name, edits := range map[string]map[string]string{
		"profiles.hcl removed": {"profiles.hcl": ""},
		"profiles.hcl empty":   {"profiles.hcl": "# all profiles moved elsewhere\n"},
	} {
		t.Run(name, func(t *testing.T) {
			fsys := minimal(t, edits)
			// The policy documents no profile uses are fine on their own.
			_, err := LoadFS(fsys, "p")
			want := "invalid policies: 1 problem(s):\n  No profile: p declares no profile block; refusing to use it, since applying it with --prune would delete every managed profile (declare at least one profile, usually in profiles.hcl)"
			if err == nil || err.Error() != want {
				t.Fatalf("LoadFS = %v, want %q", err, want)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Review finding (issue 10, item 6): mount paths in broker.hcl must be
// validated as Vault mount paths: no ".." (nor "."), no empty segment.
// mountRE's segment class [A-Za-z0-9_.-]+ lets "." and ".." through, so
// these load without error and end up in the broker's request paths, the
// reaper's lease prefixes and the discovery document served to alilogin.
func TestMountPathsRejectDotSegments(t *testing.T) {
	for _, m := range []string{"..", "nomad/..", "../sys", "a/./b", ".", "nomad/../../sys/raw"} {
		for _, key := range []string{"jwt_mount", "nomad_mount", "consul_mount"} {
			broker := "sso {\n  issuer    = \"https://sso.example.org/realms/test\"\n  client_id = \"alilogin-test\"\n}\n\nvault {\n  " + key + " = \"" + m + "\"\n}\n"
			_, err := LoadFS(minimal(t, map[string]string{"broker.hcl": broker}), "p")
			if err == nil || !strings.Contains(err.Error(), "Invalid "+key) {
				t.Errorf("%s = %q: loaded (err %v), want Invalid %s", key, m, err, key)
			}
		}
	}
}

// Review finding (low): only the top-level *.hcl files and
// vault/, nomad/ and consul/ are read; *.hcl files anywhere else (a
// profiles.d/ folder an admin made to split the profiles, vault/team/x.hcl)
// are skipped without an error or a warning, so their profiles are planned
// as deletes with no word of why. "Nothing is ever skipped silently."
func TestHCLInOtherFoldersIsNotSkippedSilently(t *testing.T) {
	for _, extra := range []string{"profiles.d/more.hcl", "vault/team/more.hcl"} {
		fs := minimal(t, map[string]string{extra: `profile "more" {
  roles = ["more"]
}
`})
		cfg, err := LoadFS(fs, "p")
		if err != nil {
			t.Logf("%s: %v", extra, err)
			continue // an error names it: fine
		}
		found := false
		for _, w := range cfg.Warnings {
			if strings.Contains(w, extra) || strings.Contains(w, strings.Split(extra, "/")[0]) && strings.Contains(w, "more") {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: skipped with no error and no warning (warnings %q)", extra, cfg.Warnings)
		}
	}
}

// wantDiagnostics loads the minimal policy folder with edits applied and
// fails t unless loading fails with exactly the diagnostics want (paths
// relative to the folder).
func wantDiagnostics(t *testing.T, edits map[string]string, want []string) {
	t.Helper()
	_, err := LoadFS(minimal(t, edits), "p")
	perr, ok := err.(*Error)
	if !ok {
		t.Fatalf("LoadFS = %v, want *Error", err)
	}
	var got []string
	for _, d := range perr.Diagnostics {
		got = append(got, strings.TrimPrefix(FormatDiagnostic(d), "p/"))
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("diagnostics (-want +got):\n%s", d)
	}
}
