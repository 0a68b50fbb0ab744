package agent

import (
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

// limitMemory sets memoryLimit, where the environment sets no limit.
func limitMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}

// OneProc runs the agent's goroutines on one P (runtime.GOMAXPROCS(1))
// unless GOMAXPROCS is set: a request through the agent hands its work
// from goroutine to goroutine (the server's connection, the transport's
// writer and reader, the audit log), and with more than one P each hand
// over may wake another thread, which a loaded machine runs late; on one
// P they run one after the other on the thread that is awake. The
// agent's work is small (bench/README.md: agentbench A1 on a loaded
// 2-core machine: added p50 0.75 ms with 2, 0.38 ms with 1). Called by
// `alilogin agent run`, not by Run (tests run agents inside other
// programs).
func OneProc() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
}
