package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/alisw/alilogin/internal/teststack"
)

const (
	profile  = "ci-user"
	role     = "alice-ci-users"
	user     = "alice"
	password = "alice"
)

func main() { os.Exit(run()) }

func run() int {
	auto := flag.Bool("auto", false, "sign in with headless Chromium even when a display is available")
	keep := flag.Bool("keep", false, "keep the stack up after the demo, until Ctrl-C")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := demo(ctx, *auto, *keep); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		return 1
	}
	return 0
}

// styled: the step lines are bold only on a terminal; into a pipe or a
// file (a CI log, `make demo 2>&1 | tee`) they are plain text.
var styled = term.IsTerminal(int(os.Stderr.Fd()))

func step(format string, args ...any) {
	if styled {
		fmt.Fprintf(os.Stderr, "\n\033[1m==> "+format+"\033[0m\n", args...)
		return
	}
	fmt.Fprintf(os.Stderr, "\n==> "+format+"\n", args...)
}

func demo(ctx context.Context, auto, keep bool) error {
	work, err := os.MkdirTemp("", "alilogin-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	step("building alilogin and broker")
	bins, err := teststack.BuildBinaries(ctx, filepath.Join(work, "bin"), teststack.AliloginPkg, teststack.BrokerPkg)
	if err != nil {
		return err
	}
	bin, brokerBin := bins[0], bins[1]

	step("starting the local stack (Vault, Nomad, Consul, Ory Hydra, Secret Service)")
	sctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	s, err := teststack.Start(sctx, teststack.Options{})
	cancel()
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Fprintf(os.Stderr, "ready in %s\n", s.StartTime.Round(time.Millisecond))
	s.Hydra.AddUser(teststack.User{Username: user, Password: password, UPN: user, Roles: []string{role}, Name: "Alice Engineer", Email: "alice@example.cern"})

	step("broker apply policies/  (profile %q for SSO role %q: Vault JWT role and policies, Nomad and Consul ACL policies and roles)", profile, role)
	if err := s.EnsureMounts(ctx, nil, teststack.Mounts{}); err != nil {
		return err
	}
	// The CI jobs' Nomad namespace and the kv/ mount with a CI secret, as
	// in ALICE's cluster.
	if err := s.ALICEData(ctx); err != nil {
		return err
	}
	if err := brokerApply(ctx, s, brokerBin, filepath.Join(work, "policies")); err != nil {
		// The demo is about alilogin: fall back to the same settings made
		// through the APIs directly.
		fmt.Fprintf(os.Stderr, "broker apply failed (%v); configuring the profile through the APIs instead\n", err)
		err = s.SetupProfile(ctx, nil, teststack.ProfileSpec{
			Name: profile, Roles: []string{role},
			NomadRules:  `namespace "ci" { policy = "read" }`,
			ConsulRules: `key_prefix "" { policy = "read" }` + "\n" + `node_prefix "" { policy = "read" }`,
		})
		if err != nil {
			return err
		}
	}

	// A fresh home for the demo user, with the user's config file.
	home := filepath.Join(work, "home")
	cfgDir := filepath.Join(home, ".config", "alilogin")
	if err := os.MkdirAll(cfgDir, 0o700); err != nil {
		return err
	}
	cfg := fmt.Sprintf(`# written by the demo
issuer          = %q
client_id       = %q
default_profile = %q

vault  { address = %q }
nomad  { address = %q }
consul { address = %q }

profile %q {
  roles = [%q]
}
`, s.Hydra.IssuerURL, s.Hydra.ClientID, profile, s.Vault.Addr, s.Nomad.Addr, s.Consul.Addr, profile, role)
	if err := os.WriteFile(filepath.Join(cfgDir, "config.hcl"), []byte(cfg), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s:\n%s", filepath.Join(cfgDir, "config.hcl"), cfg)
	env := []string{
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_STATE_HOME=" + filepath.Join(home, ".local", "state"),
		"PATH=" + filepath.Dir(bin) + string(os.PathListSeparator) + teststack.BinDir() + string(os.PathListSeparator) + os.Getenv("PATH"),
		"TERM=" + os.Getenv("TERM"),
	}
	env = append(env, s.Keyring.Env()...)
	for _, k := range []string{"DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY", "BROWSER"} {
		if v := os.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	display := os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""

	if display && !auto {
		step("alilogin login  (sign in as %s / %s in the browser)", user, password)
		if err := runCmd(ctx, env, os.Stdout, "alilogin", "login"); err != nil {
			return err
		}
	} else {
		step("alilogin login --no-browser  (no display: the demo signs in as %s with headless Chromium)", user)
		if err := autoLogin(ctx, env); err != nil {
			return err
		}
	}

	step("alilogin status")
	if err := runCmd(ctx, env, os.Stdout, "alilogin", "status"); err != nil {
		return err
	}
	step("alilogin exec -- nomad acl token self")
	if err := runCmd(ctx, env, os.Stdout, "alilogin", "exec", "--", "nomad", "acl", "token", "self"); err != nil {
		return err
	}
	step("alilogin exec -- consul acl token read -self")
	if err := runCmd(ctx, env, os.Stdout, "alilogin", "exec", "--", "consul", "acl", "token", "read", "-self"); err != nil {
		return err
	}
	step("alilogin exec -- nomad job run (refused: the profile may read CI jobs, not submit them)")
	job := filepath.Join(work, "demo.nomad.hcl")
	os.WriteFile(job, []byte("job \"demo\" {\n  namespace = \"ci\"\n  type = \"batch\"\n  group \"g\" {\n    task \"t\" {\n      driver = \"raw_exec\"\n      config { command = \"/bin/true\" }\n    }\n  }\n}\n"), 0o600)
	if err := runCmd(ctx, env, os.Stdout, "alilogin", "exec", "--", "nomad", "job", "run", "-detach", job); err == nil {
		return fmt.Errorf("nomad accepted a job from a read-only token")
	}
	fmt.Fprintln(os.Stderr, "(refused, as it should be)")

	step("done")
	fmt.Fprintln(os.Stderr, "One SSO sign-in gave short-lived Vault, Nomad and Consul tokens, kept in the Secret Service.")
	if keep {
		fmt.Fprintf(os.Stderr, "\nThe stack stays up until Ctrl-C. To use it from another shell:\n")
		for _, kv := range env {
			if k, _, _ := strings.Cut(kv, "="); k != "TERM" {
				fmt.Fprintf(os.Stderr, "  export %s\n", shellQuote(kv))
			}
		}
		<-ctx.Done()
	}
	return nil
}

func shellQuote(kv string) string {
	k, v, _ := strings.Cut(kv, "=")
	return k + "='" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}

func runCmd(ctx context.Context, env []string, stdout io.Writer, name string, args ...string) error {
	path, err := lookPath(env, name)
	if err != nil {
		return err
	}
	c := exec.CommandContext(ctx, path, args...)
	c.Env = env
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, stdout, os.Stderr
	fmt.Fprintf(os.Stderr, "$ %s %s\n", name, strings.Join(args, " "))
	return c.Run()
}

func lookPath(env []string, name string) (string, error) {
	for _, kv := range env {
		if p, ok := strings.CutPrefix(kv, "PATH="); ok {
			for _, d := range filepath.SplitList(p) {
				if fi, err := os.Stat(filepath.Join(d, name)); err == nil && !fi.IsDir() {
					return filepath.Join(d, name), nil
				}
			}
		}
	}
	return "", fmt.Errorf("%s not found", name)
}

// autoLogin runs alilogin login --no-browser and signs in with headless
// Chromium at the URL it prints.
func autoLogin(ctx context.Context, env []string) error {
	path, err := lookPath(env, "alilogin")
	if err != nil {
		return err
	}
	c := exec.CommandContext(ctx, path, "login", "--no-browser")
	c.Env = env
	c.Stdout = os.Stdout
	pr, pw := io.Pipe()
	c.Stderr = pw
	if err := c.Start(); err != nil {
		return err
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(os.Stderr, line)
			if u, ok := strings.CutPrefix(line, "  http"); ok && !sent {
				urls <- "http" + u
				sent = true
			}
		}
	}()
	waitErr := make(chan error, 1)
	go func() { waitErr <- c.Wait(); pw.Close() }()
	select {
	case authURL := <-urls:
		b, err := teststack.NewBrowser()
		if err != nil {
			return err
		}
		defer b.Close()
		u, _ := url.Parse(authURL)
		fmt.Fprintf(os.Stderr, "[chromium: signing in as %s]\n", user)
		if _, err := b.Login(ctx, authURL, user, password, u.Query().Get("redirect_uri")); err != nil {
			return fmt.Errorf("headless sign-in: %w", err)
		}
	case err := <-waitErr:
		return fmt.Errorf("alilogin login ended before printing the URL: %v", err)
	}
	return <-waitErr
}

// brokerApply runs `broker apply` on a copy of the repository's policies/
// in dir, with broker.hcl pointed at the stack.
func brokerApply(ctx context.Context, s *teststack.Stack, broker, dir string) error {
	if err := s.CopyPolicies(dir, "policies", false); err != nil {
		return fmt.Errorf("%w (run the demo from the repository root)", err)
	}
	c := exec.CommandContext(ctx, broker, "apply", "--auto-approve", dir)
	c.Env = append(os.Environ(), s.Env()...)
	c.Stdout, c.Stderr = os.Stderr, os.Stderr
	fmt.Fprintf(os.Stderr, "$ broker apply --auto-approve %s\n", dir)
	return c.Run()
}
