package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/alisw/alilogin/bench/internal/benchstack"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/teststack"
)

const module = "github.com/alisw/alilogin/"

// leaves are the generic packages the count leaves out; one are those
// counted as one file each.
var (
	leaves = []string{"internal/config", "internal/apiclient", "internal/safehttp", "internal/secret", "internal/termtext",
		"internal/filelock", "internal/atomicfile", "internal/userdir", "internal/cmdroot", "internal/nodump", "internal/buildinfo",
		"internal/config/check"}
	one = []string{"internal/store", "internal/oidc", "internal/clientcert"}
)

func main() {
	verbose := flag.Bool("v", false, "list the statements' files of the leaves too")
	funcs := flag.Bool("funcs", false, "under each counted file, the functions of it that ran")
	chains := flag.Bool("chains", false, "print each call path, a function a line")
	src := flag.String("src", ".", "the module tree to build alilogin from (another checkout measures another tree)")
	flag.Parse()
	if err := run(*src, *verbose, *funcs, *chains); err != nil {
		fmt.Fprintln(os.Stderr, "pathfiles:", err)
		os.Exit(1)
	}
}

func run(src string, verbose, funcs, chains bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "pathfiles-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "alilogin")
	build := exec.Command("go", "build", "-cover", "-coverpkg="+module+"...", "-o", bin, "./cmd/alilogin")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("could not build alilogin: %v\n%s", err, out)
	}
	prog, err := loadProgram(src)
	if err != nil {
		return err
	}
	st, err := benchstack.Start(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return err
	}
	envm := benchstack.Env(st, home)
	envm["PATH"] = os.Getenv("PATH")
	envm["NOMAD_ADDR"] = st.Nomad.Addr
	envm["CONSUL_HTTP_ADDR"] = strings.TrimPrefix(st.Consul.Addr, "http://")
	getenv := func(k string) string { return envm[k] }

	const profile = "ci"
	spec := teststack.ProfileSpec{Name: profile, Roles: []string{"ci-users"}, TTL: "1h",
		NomadRules: `namespace "default" { policy = "read" }`, ConsulRules: `key_prefix "" { policy = "read" }`}
	if err := st.SetupProfile(ctx, nil, spec); err != nil {
		return err
	}
	if err := st.EnsureKV(ctx, "kv", 2); err != nil {
		return err
	}
	if err := st.PutKV(ctx, "kv", 2, "ci/github", map[string]any{"token": "demo"}); err != nil {
		return err
	}
	if err := st.GrantVaultPolicy(ctx, profile, "ci-kv", `path "kv/data/ci/*" { capabilities = ["read"] }
path "kv/metadata/ci/*" { capabilities = ["read"] }
path "sys/internal/ui/mounts/*" { capabilities = ["read"] }`); err != nil {
		return err
	}
	st.Hydra.AddUser(teststack.User{Username: "ci-user", Password: "pw", UPN: "ci-user", Roles: []string{"ci-users"}})
	seed := func() error {
		tok, err := st.Hydra.Login(ctx, st.Hydra.ClientID, "ci-user", "pw")
		if err != nil {
			return err
		}
		s, err := store.Open("keyring", getenv, nil)
		if err != nil {
			return err
		}
		return benchstack.SeedLogin(s, st, profile, "ci-user", tok.RefreshToken, st.Vault.Addr, st.Nomad.Addr, st.Consul.Addr)
	}
	alilogin := func(cover string, args ...string) error {
		c := exec.CommandContext(ctx, bin, args...)
		for k, v := range envm {
			c.Env = append(c.Env, k+"="+v)
		}
		gocover := filepath.Join(dir, "none")
		if cover != "" {
			gocover = filepath.Join(dir, cover)
		}
		if err := os.MkdirAll(gocover, 0o700); err != nil {
			return err
		}
		c.Env = append(c.Env, "GOCOVERDIR="+gocover)
		out, err := c.CombinedOutput()
		if err != nil {
			return fmt.Errorf("alilogin %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	type behaviour struct {
		name, cover string
		prepare     func() error
		args        []string
		from        string   // the command's run function
		first       []string // the function of the behaviour's first own I/O
		rest        []string // the functions of its other I/O
	}
	notExec := filepath.Join(dir, "notexec")
	if err := os.WriteFile(notExec, []byte{0, 1, 2, 3}, 0o755); err != nil {
		return err
	}
	// Every behaviour's first I/O reads the login's record: the ways
	// the store has.
	recordRead := []string{"internal/store.KernelCache.Get", "internal/store.Cached.Lookup", "internal/store.Cached.Get",
		"internal/store.FastKeyringGet", "internal/store.File.Get"}
	// What a renewal writes: the lock (in renew before issue 20), the
	// record.
	recordWrite := []string{"internal/store.AcquireLock", "internal/store.AcquireLockOrWait", "internal/renew.Acquire",
		"internal/renew.AcquireOrWait", "internal/store.Cached.Put"}
	for _, b := range []behaviour{
		{"token --for nomad, a cache hit", "hit", func() error { return alilogin("", "token", "--profile", profile, "--for", "nomad") }, []string{"token", "--profile", profile, "--for", "nomad"},
			"cmd/alilogin.runToken", nil, nil},
		{"refresh after the Vault token expired (a record with only its refresh token)", "refresh", seed, []string{"token", "--profile", profile, "--for", "nomad"},
			"cmd/alilogin.runToken", []string{"internal/oidc.Client.Refresh"}, append([]string{"internal/issue.VaultLogin", "internal/issue.Mint"}, recordWrite...)},
		{"exec --secret reads a secret", "secret", func() error { return alilogin("", "token", "--profile", profile, "--for", "vault") }, []string{"exec", "--profile", profile, "--secret", "X=kv/ci/github#token", "--", notExec},
			"cmd/alilogin.runExec", []string{"internal/kvsecret.Mount"}, []string{"internal/kvsecret.Read", "cmd/alilogin.execCommand"}},
		{"logout removing every copy", "logout", func() error { return alilogin("", "token", "--profile", profile, "--for", "nomad") }, []string{"logout", "--profile", profile},
			"cmd/alilogin.runLogout", []string{"internal/issue.Revoke"}, []string{"internal/oidc.Client.Revoke", "internal/clientcert.Revoke",
				"internal/store.Cached.Delete", "internal/agent.ExistingDir", "internal/agent.Call"}},
	} {
		if err := seed(); err != nil {
			return err
		}
		if err := b.prepare(); err != nil {
			return err
		}
		// What the command runs before its run function.
		if err := alilogin(b.cover+"-flags", b.args[0], "--help"); err != nil {
			return err
		}
		startup, err := ran(filepath.Join(dir, b.cover+"-flags"), filepath.Join(dir, b.cover+"-flags.txt"))
		if err != nil {
			return err
		}
		if b.args[0] == "exec" {
			// The measured exec ends in a refused exec, which prints
			// an error and picks an exit code; a real one does not.
			// Those steps are what an exec of a command that does not
			// exist runs too, before any work: not counted.
			gone := append(append([]string(nil), b.args[:len(b.args)-1]...), filepath.Join(dir, "no-such-command"))
			_ = alilogin(b.cover+"-end", gone...)
			end, err := ran(filepath.Join(dir, b.cover+"-end"), filepath.Join(dir, b.cover+"-end.txt"))
			if err != nil {
				return err
			}
			for blk := range end {
				startup[blk] = true
			}
		}
		if err := alilogin(b.cover, b.args...); err != nil && b.args[0] != "exec" {
			return err
		}
		blocks, err := ran(filepath.Join(dir, b.cover), filepath.Join(dir, b.cover+".txt"))
		if err != nil {
			return err
		}
		files := map[string]bool{}
		for blk := range blocks {
			if !startup[blk] && !strings.HasPrefix(blk, "cmd/alilogin/main.go:") {
				f, _, _ := strings.Cut(blk, ":")
				files[f] = true
			}
		}
		counted, groups := count(slices.Sorted(maps.Keys(files)))
		firstIO := append(append([]string(nil), recordRead...), b.first...)
		allIO := append(append([]string(nil), firstIO...), b.rest...)
		cps, err := prog.paths(blocks, b.from, allIO)
		if err != nil {
			return fmt.Errorf("%s: %v", b.name, err)
		}
		firstFiles, allFiles := filesOf(cps, firstIO), filesOf(cps, allIO)
		fmt.Printf("%s: %d files ran; on the call path to its first I/O %d, to all its I/O %d\n", b.name, len(counted), len(firstFiles), len(allFiles))
		var ranFuncs map[string][]string
		if funcs {
			if ranFuncs, err = functions(src, filepath.Join(dir, b.cover+".txt")); err != nil {
				return err
			}
		}
		for _, f := range counted {
			fmt.Printf("  %s\n", f)
			for _, fn := range ranFuncs[f] {
				fmt.Printf("      %s\n", fn)
			}
		}
		if verbose {
			fmt.Printf("  not counted: %s\n", strings.Join(groups, " "))
		}
		fmt.Printf("  the call path to its first I/O: %s\n", strings.Join(firstFiles, " "))
		fmt.Printf("  the call path to all its I/O: %s\n", strings.Join(allFiles, " "))
		if chains {
			sort.Slice(cps, func(i, j int) bool { return cps[i].sink < cps[j].sink })
			for _, cp := range cps {
				fmt.Printf("  to %s:\n", cp.sink)
				for _, c := range cp.chain {
					fmt.Printf("      %s\n", c)
				}
			}
		}
	}
	return nil
}

// ran is the set of the module's blocks (file:range) with a statement
// run in the coverage data of dir.
func ran(dir, txt string) (map[string]bool, error) {
	if out, err := exec.Command("go", "tool", "covdata", "textfmt", "-i="+dir, "-o="+txt).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("covdata: %v\n%s", err, out)
	}
	f, err := os.Open(txt)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "mode:") {
			continue
		}
		file, rest, ok := strings.Cut(line, ":")
		fields := strings.Fields(rest)
		if !ok || len(fields) != 3 || fields[2] == "0" {
			continue
		}
		seen[strings.TrimPrefix(file, module)+":"+fields[0]] = true
	}
	return seen, sc.Err()
}

// functions lists, by file, the functions that ran a statement in the
// coverage profile txt (go tool cover -func, read in the tree src).
func functions(src, txt string) (map[string][]string, error) {
	c := exec.Command("go", "tool", "cover", "-func="+txt)
	c.Dir = src
	out, err := c.Output()
	if err != nil {
		return nil, fmt.Errorf("cover -func: %v", err)
	}
	byFile := map[string][]string{}
	for _, line := range strings.Split(string(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) != 3 || fields[2] == "0.0%" || !strings.HasPrefix(fields[0], module) {
			continue
		}
		file, _, _ := strings.Cut(strings.TrimPrefix(fields[0], module), ":")
		byFile[file] = append(byFile[file], fields[1])
	}
	return byFile, nil
}

// count groups files as the issue counts them: the counted ones, and the
// rest.
func count(files []string) (counted, rest []string) {
	groups := map[string]bool{}
	for _, f := range files {
		pkg := filepath.Dir(f)
		switch {
		case has(leaves, pkg):
			rest = append(rest, f)
		case has(one, pkg):
			if !groups[pkg] {
				groups[pkg] = true
				counted = append(counted, "["+pkg+"]")
			}
		default:
			counted = append(counted, f)
		}
	}
	return counted, rest
}

func has(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}
