// Command alilogin signs an engineer in once through CERN SSO and keeps
// short-lived Vault, Nomad and Consul tokens in the OS keyring for the
// vault, nomad and consul CLIs and for scripts. See docs/user-guide.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &cmdEnv{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Environ: os.Environ})
	stop()
	os.Exit(code)
}
