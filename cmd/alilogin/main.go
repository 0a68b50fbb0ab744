package main

import (
	"context"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"

	"github.com/alisw/alilogin/internal/agent"
	"github.com/alisw/alilogin/internal/cmdroot"
)

func main() {
	// No allocation sampling for memory profiles, which nothing here
	// reads: each sample walks the stack, on pages a short command has
	// not touched yet (about 2 % of `alilogin token`'s CPU).
	runtime.MemProfileRate = 0
	cmdroot.Start("alilogin", os.Stderr) // before any secret is read: not dumpable
	ctx := &signalContext{Context: context.Background(), sigs: []os.Signal{os.Interrupt, syscall.SIGTERM}}
	// An agent-mode environment is read with the real servers' settings
	// put back (envcontract.Restored).
	getenv, environ := agent.ProcessEnv()
	code := run(ctx, os.Args[1:], &cmdEnv{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: getenv, Environ: environ})
	ctx.stop()
	os.Exit(code)
}

// signalContext is signal.NotifyContext(Context, sigs...), set up the
// first time something waits on it (Done or Err). Until then a signal has
// its default effect, ending the process, which is right for a command
// that waits on nothing: `alilogin token` on a cached token then spares
// starting the signal-handling goroutines and their threads (~0.2 ms of
// its ~5).
type signalContext struct {
	context.Context
	sigs []os.Signal

	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
}

func (c *signalContext) notify() context.Context {
	c.once.Do(func() { c.ctx, c.cancel = signal.NotifyContext(c.Context, c.sigs...) })
	return c.ctx
}

func (c *signalContext) Done() <-chan struct{} { return c.notify().Done() }
func (c *signalContext) Err() error            { return c.notify().Err() }

// stop releases the signals, if they were taken.
func (c *signalContext) stop() {
	c.once.Do(func() {})
	if c.cancel != nil {
		c.cancel()
	}
}
