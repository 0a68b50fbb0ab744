package agent

import (
	"os"
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
