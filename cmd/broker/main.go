package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/alisw/alilogin/internal/nodump"
)

func main() {
	// Before any secret is read: no core dump, no ptrace, no /proc/<pid>/environ
	// or mem for the user's other processes (Linux; exec'd programs get it back).
	if err := nodump.Set(); err != nil {
		fmt.Fprintf(os.Stderr, "broker: warning: %v\n", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &cmdEnv{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv})
	stop()
	os.Exit(code)
}
