package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/alisw/alilogin/bench/internal/benchstack"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/teststack"
)

func main() {
	runs := flag.Int("runs", 31, "P1 runs of each command (>= 30)")
	calls := flag.Int("calls", 1000, "P2 sequential token calls")
	conc := flag.Int("concurrent", 50, "P2 concurrent token calls on an expired cache")
	relogins := flag.Int("relogins", 10, "P3 re-logins of each kind")
	only := flag.String("only", "", "run only these parts, comma-separated: P1, P2 (both P2 parts), P3")
	repeat := flag.Int("repeat", 1, "run the bench this many times, each on a stack of its own, and end with the median of the P1 and P3 ratios (the issue's protocol: 5)")
	baseline := flag.String("baseline", "", "P1 also times this alilogin binary (e.g. built from an earlier commit), interleaved with the others")
	flag.Parse()
	parts := map[string]bool{"P1": true, "P2": true, "P3": true}
	if *only != "" {
		clear(parts)
		for _, p := range strings.Split(*only, ",") {
			p = strings.ToUpper(strings.TrimSpace(p))
			if p != "P1" && p != "P2" && p != "P3" {
				fmt.Fprintf(os.Stderr, "tokenbench: -only: unknown part %q (want P1, P2, P3)\n", p)
				os.Exit(2)
			}
			parts[p] = true
		}
	}
	if *repeat < 1 {
		fmt.Fprintln(os.Stderr, "tokenbench: -repeat: want 1 or more")
		os.Exit(2)
	}
	// Each repetition is a whole run on a stack of its own (the servers'
	// connections and tokens from one do not weigh on the next), with
	// its own side-by-side ratios.
	var r1, r3 []float64
	for i := range *repeat {
		if *repeat > 1 {
			fmt.Printf("\n-- repetition %d of %d\n", i+1, *repeat)
		}
		p1, p3, err := run(*runs, *calls, *conc, *relogins, parts, *baseline)
		if err != nil {
			fmt.Fprintln(os.Stderr, "tokenbench:", err)
			os.Exit(1)
		}
		r1, r3 = append(r1, p1...), append(r3, p3...)
	}
	if *repeat > 1 {
		fmt.Printf("\nover %d repetitions:\n", *repeat)
		if len(r1) > 0 {
			fmt.Printf("    P1 ratio alilogin/vault      %s: median %.3f (target <= 0.100)\n", ratios(r1, "%.3f"), benchstack.Median(r1))
		}
		if len(r3) > 0 {
			fmt.Printf("    P3 ratio vault CLI/alilogin  %s: median %.2fx (target >= 3.3x)\n", ratios(r3, "%.2f"), benchstack.Median(r3))
		}
	}
}

// ratios lists rs in format f, comma-separated.
func ratios(rs []float64, f string) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = fmt.Sprintf(f, r)
	}
	return strings.Join(out, ", ")
}

type bench struct {
	st      *teststack.Stack
	bin     string
	home    string
	env     []string
	getenv  func(string) string
	ctx     context.Context
	vaultCL string
	// baseline, when set, is another alilogin binary timed in P1.
	baseline string
}

// run builds alilogin, starts a stack and runs the parts asked for; it
// returns the P1 and P3 ratios it measured (none for a part not run).
func run(runs, calls, conc, relogins int, parts map[string]bool, baseline string) (p1, p3 []float64, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "tokenbench-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(dir)
	b := &bench{ctx: ctx, home: filepath.Join(dir, "home"), baseline: baseline}
	if baseline != "" {
		if b.baseline, err = filepath.Abs(baseline); err != nil {
			return nil, nil, err
		}
		if _, err := os.Stat(b.baseline); err != nil {
			return nil, nil, fmt.Errorf("-baseline: %w", err)
		}
	}
	if b.bin, err = benchstack.Build(dir); err != nil {
		return nil, nil, err
	}
	if b.st, err = benchstack.Start(ctx); err != nil {
		return nil, nil, err
	}
	defer b.st.Close()
	b.vaultCL = b.st.Vault.Bin
	settle := []string{b.bin, b.vaultCL}
	if b.baseline != "" {
		settle = append(settle, b.baseline)
	}
	if err := benchstack.Settle(settle...); err != nil {
		return nil, nil, err
	}
	envm := benchstack.Env(b.st, b.home)
	envm["PATH"] = os.Getenv("PATH")
	envm["NOMAD_ADDR"] = b.st.Nomad.Addr
	envm["CONSUL_HTTP_ADDR"] = strings.TrimPrefix(b.st.Consul.Addr, "http://")
	for k, v := range envm {
		b.env = append(b.env, k+"="+v)
	}
	b.getenv = func(k string) string { return envm[k] }
	if err := os.MkdirAll(b.home, 0o700); err != nil {
		return nil, nil, err
	}

	fmt.Printf("alilogin token bench: stack up in %s, %d CPUs\n\n", b.st.StartTime.Round(time.Millisecond), benchstack.CPUs())
	// P1 and P3 use the record the sequential P2 leaves; without P2, one
	// call makes it.
	if !parts["P2"] {
		calls = 1
	}
	if err := b.p2Sequential(calls, parts["P2"]); err != nil {
		return nil, nil, fmt.Errorf("P2 sequential: %w", err)
	}
	if parts["P1"] {
		r, err := b.p1(runs)
		if err != nil {
			return nil, nil, fmt.Errorf("P1: %w", err)
		}
		p1 = append(p1, r)
	}
	if parts["P2"] {
		if err := b.p2Concurrent(conc); err != nil {
			return nil, nil, fmt.Errorf("P2 concurrent: %w", err)
		}
	}
	if parts["P3"] {
		r, err := b.p3(relogins)
		if err != nil {
			return nil, nil, fmt.Errorf("P3: %w", err)
		}
		p3 = append(p3, r)
	}
	return p1, p3, nil
}

// profile configures a profile as `broker apply` would (SetupProfile: the
// generated policy, which renews and revokes the profile's own leases),
// and seeds a record holding only a refresh token.
func (b *bench) profile(name, ttl string) (refresh string, err error) {
	spec := teststack.ProfileSpec{Name: name, Roles: []string{name + "-users"}, TTL: ttl,
		NomadRules: `namespace "default" { policy = "read" }`, ConsulRules: `key_prefix "" { policy = "read" }`}
	if err := b.st.SetupProfile(b.ctx, nil, spec); err != nil {
		return "", err
	}
	user := name + "-user"
	b.st.Hydra.AddUser(teststack.User{Username: user, Password: "pw", UPN: user, Roles: []string{name + "-users"}})
	tok, err := b.st.Hydra.Login(b.ctx, b.st.Hydra.ClientID, user, "pw")
	if err != nil {
		return "", err
	}
	return tok.RefreshToken, b.seed(name, tok.RefreshToken)
}

func (b *bench) store() (store.Store, error) { return store.Open("keyring", b.getenv, nil) }

func (b *bench) seed(profile, refresh string) error {
	st, err := b.store()
	if err != nil {
		return err
	}
	return benchstack.SeedLogin(st, b.st, profile, profile+"-user", refresh, b.st.Vault.Addr, b.st.Nomad.Addr, b.st.Consul.Addr)
}

// alilogin runs the binary and returns stdout, stderr and the wall time.
func (b *bench) alilogin(args ...string) (string, string, time.Duration, error) {
	return b.cmd(b.bin, nil, nil, args...)
}

func (b *bench) cmd(bin string, extraEnv []string, stdin []byte, args ...string) (string, string, time.Duration, error) {
	c := exec.Command(bin, args...)
	c.Env = append(slices.Clone(b.env), extraEnv...)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	if stdin != nil {
		c.Stdin = bytes.NewReader(stdin)
	}
	t0 := time.Now()
	err := c.Run()
	d := time.Since(t0)
	if err != nil {
		return out.String(), errb.String(), d, fmt.Errorf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, errb.String())
	}
	return out.String(), errb.String(), d, nil
}

func (b *bench) countNomad(profile string) (int, error) {
	return b.st.NomadTokens(b.ctx, profile+"-nomad")
}

func (b *bench) countVault(profile string) (int, error) {
	return b.st.VaultTokens(b.ctx, teststack.VaultPolicy(profile))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// p2Sequential makes the "bench" profile and calls token on it; report:
// print the P2 line.
func (b *bench) p2Sequential(calls int, report bool) error {
	if _, err := b.profile("bench", "1h"); err != nil {
		return err
	}
	t0 := time.Now()
	var first string
	for i := range calls {
		out, _, _, err := b.alilogin("token", "--for", "nomad", "--profile", "bench")
		if err != nil {
			return err
		}
		if i == 0 {
			first = out
		} else if out != first {
			return fmt.Errorf("call %d printed another token", i)
		}
	}
	if !report {
		return nil
	}
	n, err := b.countNomad("bench")
	if err != nil {
		return err
	}
	fmt.Printf("P2  %d sequential `token --for nomad` calls from a refresh-token-only record: %d Nomad token(s) minted (want 1) in %s\n",
		calls, n, time.Since(t0).Round(time.Millisecond))
	return nil
}

func (b *bench) p1(runs int) (float64, error) {
	// vault print token reads ~/.vault-token, its own token cache.
	st, err := b.store()
	if err != nil {
		return 0, err
	}
	rec, err := st.Get("bench")
	if err != nil {
		return 0, err
	}
	if err := os.WriteFile(filepath.Join(b.home, ".vault-token"), []byte(rec.Vault.Secret.Reveal()), 0o600); err != nil {
		return 0, err
	}
	var ali, vlt, ver, kr, kc, fast, base, basever, short, cur []time.Duration
	secretService := store.NewKeyring(0, 0) // past the kernel cache
	// The current profile (alilogin use): token without --profile reads
	// the current-profile file to choose it.
	if _, _, _, err := b.alilogin("use", "bench"); err != nil {
		return 0, err
	}
	// Each run times every step once, in an order of its own (a fixed
	// seed: the same orders every time), so that no command always
	// follows the same one: which one ran just before shifts a step's
	// time by up to 20 % here, whatever the binary (a start right after
	// vault's, which frees 50 ms of work, is slower).
	// The first run checks each answer: the cached token itself, and
	// status --short's line for the profile.
	is := func(what, token string) func(out string) error {
		return func(out string) error {
			if strings.TrimSpace(out) != token {
				return fmt.Errorf("%s printed another token than the cached one", what)
			}
			return nil
		}
	}
	timed := func(dst *[]time.Duration, check func(out string) error, bin string, env []string, args ...string) func(first bool) error {
		return func(first bool) error {
			out, _, d, err := b.cmd(bin, env, nil, args...)
			if err == nil && first && check != nil {
				err = check(out)
			}
			*dst = append(*dst, d)
			return err
		}
	}
	inProcess := func(dst *[]time.Duration, read func() error) func(bool) error {
		return func(bool) error {
			t0 := time.Now()
			err := read()
			*dst = append(*dst, time.Since(t0))
			return err
		}
	}
	nomad, vault := rec.Nomad.Secret.Reveal(), rec.Vault.Secret.Reveal()
	steps := []func(first bool) error{
		timed(&ali, is("alilogin", nomad), b.bin, nil, "token", "--for", "nomad", "--profile", "bench"),
		timed(&cur, is("alilogin with the current profile", nomad), b.bin, nil, "token", "--for", "nomad"),
		timed(&short, func(o string) error {
			if !strings.HasPrefix(o, "bench ") {
				return fmt.Errorf("status --short printed %q", o)
			}
			return nil
		}, b.bin, nil, "status", "--short", "--profile", "bench"),
		timed(&vlt, is("vault print token", vault), b.vaultCL, []string{"VAULT_TOKEN="}, "print", "token"),
		timed(&ver, nil, b.bin, nil, "version"),
		inProcess(&fast, func() error {
			if _, ok, err := store.FastKeyringGet(os.Getenv, "bench"); !ok || err != nil {
				return fmt.Errorf("fast keyring read failed: %v", err)
			}
			return nil
		}),
		inProcess(&kr, func() error { _, err := secretService.Get("bench"); return err }),
		inProcess(&kc, func() error { _, err := st.Get("bench"); return err }), // the kernel cache, where there is one
	}
	if b.baseline != "" {
		steps = append(steps,
			timed(&base, is("the baseline", nomad), b.baseline, nil, "token", "--for", "nomad", "--profile", "bench"),
			timed(&basever, nil, b.baseline, nil, "version"))
	}
	order := rand.New(rand.NewPCG(1, 1))
	for i := range runs {
		for _, k := range order.Perm(len(steps)) {
			if err := steps[k](i == 0); err != nil {
				return 0, err
			}
		}
	}
	a, v := benchstack.Median(ali), benchstack.Median(vlt)
	fmt.Printf("\nP1  cached token, whole process, median of %d interleaved runs each:\n", runs)
	fmt.Printf("    alilogin token --for nomad   %s\n", ms(a))
	fmt.Printf("    the same, profile from the current profile (alilogin use) %s  (ratio %.2f)\n", ms(benchstack.Median(cur)), float64(benchstack.Median(cur))/float64(a))
	fmt.Printf("    alilogin status --short      %s  (ratio status --short/token %.2f)\n", ms(benchstack.Median(short)), float64(benchstack.Median(short))/float64(a))
	fmt.Printf("    vault print token            %s\n", ms(v))
	fmt.Printf("    ratio alilogin/vault         %.3f  (target <= 0.100; vault is %.1fx slower)\n", float64(a)/float64(v), float64(v)/float64(a))
	fmt.Printf("    where the time goes: `alilogin version` (process start-up alone) %s; record read in-process: kernel cache %s, Secret Service fast path %s, go-keyring %s\n",
		ms(benchstack.Median(ver)), fmt.Sprintf("%d µs", benchstack.Median(kc).Microseconds()), ms(benchstack.Median(fast)), ms(benchstack.Median(kr)))
	if b.baseline != "" {
		ba := benchstack.Median(base)
		fmt.Printf("    baseline %s: token %s (ratio %.3f), version %s\n", b.baseline, ms(ba), float64(ba)/float64(v), ms(benchstack.Median(basever)))
	}
	return float64(a) / float64(v), nil
}

func (b *bench) p2Concurrent(n int) error {
	const ttl = 15 * time.Second
	if _, err := b.profile("benchexp", "15s"); err != nil {
		return err
	}
	if _, _, _, err := b.alilogin("token", "--for", "nomad", "--profile", "benchexp"); err != nil {
		return err
	}
	time.Sleep(ttl + time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for {
		nn, err1 := b.countNomad("benchexp")
		nv, err2 := b.countVault("benchexp")
		if err1 != nil || err2 != nil {
			return fmt.Errorf("%v %v", err1, err2)
		}
		if nn == 0 && nv == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("expired tokens not gone: nomad %d vault %d", nn, nv)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var wg sync.WaitGroup
	outs := make([]string, n)
	errs := make([]error, n)
	stderrs := make([]string, n)
	t0 := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], stderrs[i], _, errs[i] = b.alilogin("token", "--for", "nomad", "--profile", "benchexp", "--min-ttl", "2s", "-v")
		}()
	}
	wg.Wait()
	wall := time.Since(t0)
	distinct := map[string]bool{}
	refreshes := 0
	for i := range n {
		if errs[i] != nil {
			return errs[i]
		}
		distinct[outs[i]] = true
		refreshes += strings.Count(stderrs[i], "refreshed SSO session")
	}
	nn, err := b.countNomad("benchexp")
	if err != nil {
		return err
	}
	nv, err := b.countVault("benchexp")
	if err != nil {
		return err
	}
	fmt.Printf("\nP2  %d concurrent `token --for nomad` on an expired cache: %d refresh(es), %d Vault login(s), %d Nomad token(s) created, %d distinct token(s) printed, all in %s\n",
		n, refreshes, nv, nn, len(distinct), wall.Round(time.Millisecond))
	return nil
}

func (b *bench) p3(n int) (float64, error) {
	const profile = "bench"
	st, err := b.store()
	if err != nil {
		return 0, err
	}
	root := b.st.Vault.Client()
	var ali, cli []time.Duration
	for range n {
		// alilogin: a record whose only usable part is the refresh token.
		rec, err := st.Get(profile)
		if err != nil {
			return 0, err
		}
		old := rec.Vault
		if err := b.seed(profile, rec.RefreshToken.Reveal()); err != nil {
			return 0, err
		}
		_, _, d, err := b.alilogin("env", "--profile", profile, "--for", "vault,nomad,consul", "--shell", "json")
		if err != nil {
			return 0, err
		}
		ali = append(ali, d)
		if old != nil {
			_ = root.Do(b.ctx, "POST", "/v1/auth/token/revoke-accessor", map[string]string{"accessor": old.Accessor}, nil)
		}

		// The vault CLI: the same Vault login and creds reads (the
		// refresh grant is done here, untimed: the CLI has none).
		rec, err = st.Get(profile)
		if err != nil {
			return 0, err
		}
		tok, err := b.st.Hydra.Refresh(b.ctx, b.st.Hydra.ClientID, rec.RefreshToken.Reveal())
		if err != nil {
			return 0, err
		}
		rec.RefreshToken = secret.New(tok.RefreshToken)
		if err := st.Put(rec); err != nil {
			return 0, err
		}
		t0 := time.Now()
		vt, _, _, err := b.cmd(b.vaultCL, []string{"VAULT_TOKEN="}, []byte(tok.IDToken), "write", "-field=token", "auth/jwt/login", "role="+profile, "jwt=-")
		if err != nil {
			return 0, err
		}
		var wg sync.WaitGroup
		var e1, e2 error
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, _, _, e1 = b.cmd(b.vaultCL, []string{"VAULT_TOKEN=" + strings.TrimSpace(vt)}, nil, "read", "-format=json", "nomad/creds/"+profile)
		}()
		go func() {
			defer wg.Done()
			_, _, _, e2 = b.cmd(b.vaultCL, []string{"VAULT_TOKEN=" + strings.TrimSpace(vt)}, nil, "read", "-format=json", "consul/creds/"+profile)
		}()
		wg.Wait()
		cli = append(cli, time.Since(t0))
		if e1 != nil || e2 != nil {
			return 0, fmt.Errorf("%v %v", e1, e2)
		}
		_ = root.Do(b.ctx, "POST", "/v1/auth/token/revoke", map[string]string{"token": strings.TrimSpace(vt)}, nil)
	}
	a, c := benchstack.Median(ali), benchstack.Median(cli)
	fmt.Printf("\nP3  non-interactive re-login, median of %d:\n", n)
	fmt.Printf("    alilogin (refresh grant + Vault login + Nomad/Consul creds in parallel, one process)  %s\n", ms(a))
	fmt.Printf("    vault CLI (write auth/jwt/login, then read nomad/creds + consul/creds in parallel)      %s\n", ms(c))
	fmt.Printf("    ratio vault CLI/alilogin  %.2fx faster (target >= 3.3x); the CLI side excludes the refresh grant\n", float64(c)/float64(a))
	return float64(c) / float64(a), nil
}
