package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/alisw/alilogin/internal/teststack"
)

// demoUsers are the documented users of the local stack.
var demoUsers = []teststack.User{
	{Username: "alice", Password: "alice", UPN: "alice", Roles: []string{"alice-ci-users"}, Name: "Alice Engineer", Email: "alice@example.cern"},
	{Username: "admin", Password: "admin", UPN: "admin", Roles: []string{"alice-ci-admins", "alice-ci-users"}, Name: "Ada Admin", Email: "admin@example.cern"},
	{Username: "ops", Password: "ops", UPN: "ops", Roles: []string{"alice-build-operators"}, Name: "Oscar Operator", Email: "ops@example.cern"},
	{Username: "guest", Password: "guest", UPN: "guest", Roles: []string{"not-an-alice-egroup"}, Name: "Gus Guest", Email: "guest@example.cern"},
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 0 || args[0] != "up" {
		fmt.Fprintln(os.Stderr, "usage: stack up [-env FILE]")
		return 2
	}
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	envFile := fs.String("env", "", "also write the environment to FILE (0600)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	s, err := teststack.Start(sctx, teststack.Options{})
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "stack: %v\n", err)
		return 1
	}
	defer s.Close()
	for _, u := range demoUsers {
		s.Hydra.AddUser(u)
	}
	env := append(s.Env(),
		"ALILOGIN_ISSUER="+s.Hydra.IssuerURL,
		"ALILOGIN_CLIENT_ID="+s.Hydra.ClientID,
		"DBUS_SESSION_BUS_ADDRESS="+s.Keyring.BusAddress,
	)
	fmt.Fprintf(os.Stderr, "stack ready in %s (logs in %s)\n\n", s.StartTime.Round(time.Millisecond), s.Dir())
	fmt.Fprintln(os.Stderr, "Environment (root/management tokens: for admins and tests only):")
	var b strings.Builder
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&b, "export %s='%s'\n", k, v)
	}
	fmt.Fprint(os.Stdout, b.String())
	if *envFile != "" {
		if err := os.WriteFile(*envFile, []byte(b.String()), 0o600); err != nil {
			fmt.Fprintf(os.Stderr, "stack: %v\n", err)
			return 1
		}
	}
	fmt.Fprintf(os.Stderr, "\nOpenID provider: %s  (login page served by %s)\n", s.Hydra.IssuerURL, s.Hydra.AppURL)
	fmt.Fprintln(os.Stderr, "Test users (username / password: roles):")
	for _, u := range demoUsers {
		fmt.Fprintf(os.Stderr, "  %-6s / %-6s: %s\n", u.Username, u.Password, strings.Join(u.Roles, ", "))
	}
	fmt.Fprintln(os.Stderr, "\nUp until Ctrl-C.")
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "stopping the stack")
	return 0
}
