package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/alisw/alilogin/internal/cmdroot"
)

func main() {
	cmdroot.Start("broker", os.Stderr) // before any secret is read: not dumpable
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &cmdEnv{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv})
	stop()
	os.Exit(code)
}
