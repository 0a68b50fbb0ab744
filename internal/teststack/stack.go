package teststack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options chooses the parts of the stack. The zero value starts all of them.
type Options struct {
	NoVault, NoNomad, NoConsul, NoHydra, NoKeyring bool
}

// Stack is a running set of servers.
type Stack struct {
	Vault   *Vault
	Nomad   *Nomad
	Consul  *Consul
	Hydra   *Hydra
	Keyring *Keyring

	// StartTime is how long Start took.
	StartTime time.Duration

	dir   string
	mu    sync.Mutex
	procs []*proc
	// defaultMu serialises the edits of Vault's default policy
	// (DenyLeaseRenewalByDefault).
	defaultMu sync.Mutex
}

// Dir is the stack's temporary directory (logs, data).
func (s *Stack) Dir() string { return s.dir }

func (s *Stack) add(p *proc) {
	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.mu.Unlock()
}

// Start starts the chosen servers in parallel and waits until each is ready
// (ACLs bootstrapped, Hydra's client registered). On error, whatever was
// started is stopped again.
func Start(ctx context.Context, opts Options) (s *Stack, err error) {
	t0 := time.Now()
	dir, err := os.MkdirTemp("", "alilogin-stack-")
	if err != nil {
		return nil, err
	}
	s = &Stack{dir: dir}
	defer func() {
		if err != nil {
			s.Close()
			s = nil
		}
	}()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	run := func(name string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if e := f(); e != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", name, e))
				mu.Unlock()
			}
		}()
	}
	if !opts.NoVault {
		run("vault", func() (e error) { s.Vault, e = startVault(ctx, s, VaultOptions{}); return })
	}
	if !opts.NoNomad {
		run("nomad", func() (e error) { s.Nomad, e = startNomad(ctx, s, nil); return })
	}
	if !opts.NoConsul {
		run("consul", func() (e error) { s.Consul, e = startConsul(ctx, s, nil); return })
	}
	if !opts.NoHydra {
		run("hydra", func() (e error) { s.Hydra, e = startHydra(ctx, s); return })
	}
	if !opts.NoKeyring {
		run("keyring", func() (e error) { s.Keyring, e = startKeyring(ctx, s); return })
	}
	wg.Wait()
	if len(errs) > 0 {
		return s, errors.Join(errs...)
	}
	s.StartTime = time.Since(t0)
	return s, nil
}

// Close stops every process and removes the temporary directory.
func (s *Stack) Close() {
	if s == nil {
		return
	}
	s.mu.Lock()
	procs := s.procs
	s.procs = nil
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() { defer wg.Done(); p.stop() }()
	}
	wg.Wait()
	if s.Hydra != nil {
		s.Hydra.closeApp()
	}
	if s.Keyring != nil {
		s.Keyring.restoreEnv()
	}
	if os.Getenv("ALILOGIN_STACK_KEEP") == "" {
		_ = os.RemoveAll(s.dir)
	}
}

// DumpLogs writes the tail of each server's log to w.
func (s *Stack) DumpLogs(w io.Writer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.procs {
		fmt.Fprintf(w, "===== %s log (%s) =====\n%s\n", p.name, p.logPath, p.tail(16000))
	}
}

// Main is a TestMain body: it starts the stack, runs the tests, prints the
// servers' logs if any test failed, and always stops the stack. It returns
// the exit code for os.Exit.
func Main(m *testing.M, opts Options, out **Stack) int {
	// Every HashiCorp binary the tests run (servers and CLIs) inherits
	// this: no version check against the internet, only loopback.
	os.Setenv("CHECKPOINT_DISABLE", "1")
	if err := becomeSubreaper(); err != nil {
		fmt.Fprintf(os.Stderr, "teststack: could not become the subreaper of the tests' processes: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	s, err := Start(ctx, opts)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "teststack: could not start the stack: %v\n", err)
		endLeftovers(os.Stderr, 10*time.Second)
		return 1
	}
	fmt.Fprintf(os.Stderr, "teststack: stack ready in %s\n", s.StartTime.Round(time.Millisecond))
	*out = s
	code := 1
	func() {
		defer func() {
			if r := recover(); r != nil {
				s.DumpLogs(os.Stderr)
				s.Close()
				panic(r)
			}
		}()
		code = m.Run()
	}()
	if code != 0 {
		s.DumpLogs(os.Stderr)
	}
	s.Close()
	// Nothing the stack or the tests started may outlive them: a daemon
	// left behind fails the run.
	if endLeftovers(os.Stderr, 10*time.Second) > 0 && code == 0 {
		code = 1
	}
	return code
}

// Env returns the environment variables that point the vault, nomad and
// consul CLIs at this stack with its root/management tokens.
func (s *Stack) Env() []string {
	var env []string
	if s.Vault != nil {
		env = append(env, "VAULT_ADDR="+s.Vault.Addr, "VAULT_TOKEN="+s.Vault.RootToken)
	}
	if s.Nomad != nil {
		env = append(env, "NOMAD_ADDR="+s.Nomad.Addr, "NOMAD_TOKEN="+s.Nomad.ManagementToken)
	}
	if s.Consul != nil {
		env = append(env, "CONSUL_HTTP_ADDR="+strings.TrimPrefix(s.Consul.Addr, "http://"), "CONSUL_HTTP_TOKEN="+s.Consul.ManagementToken)
	}
	return env
}
