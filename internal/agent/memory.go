package agent

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
)

// memoryLimit is the agent's soft memory limit (runtime/debug
// SetMemoryLimit) unless GOMEMLIMIT sets one: the garbage collector
// works harder as the agent's memory nears it, and returns freed memory
// to the system sooner, instead of letting the heap grow to twice what
// is live (GOGC=100). 500 blocking queries held through the agent stay
// under 40 MiB of RSS this way (bench/agentbench A4). It is soft: an
// agent that truly needs more gets it, at the price of more GC.
const memoryLimit = 28 << 20

// TuneRuntime sets memoryLimit, where the environment sets no limit,
// and runs the agent's goroutines on one processor, where GOMAXPROCS
// does not say otherwise. A request through the agent passes from the
// goroutine of the client's connection to the server's and back (and,
// over HTTP/2, to the stream's writer): with one processor each hand-over
// is a switch on the same thread, with more it may wake another thread,
// and idle processors spin looking for work. On 2 cores that halved the
// agent's CPU per small request (bench/agentbench A1); the agent's work
// per request is microseconds, so one processor is not its bound.
// `alilogin agent run` calls it before Run (a test process keeps its
// own settings).
func TuneRuntime() string {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	return RuntimeSettings()
}

// RuntimeSettings says what the Go runtime runs with, for agent status.
func RuntimeSettings() string {
	procs := "processors"
	n := runtime.GOMAXPROCS(0)
	if n == 1 {
		procs = "processor"
	}
	limit := "no memory limit"
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		limit = fmt.Sprintf("soft memory limit %d MiB", l>>20)
	}
	return fmt.Sprintf("Go on %d %s (GOMAXPROCS), %s (GOMEMLIMIT)", n, procs, limit)
}
