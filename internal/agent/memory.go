package agent

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
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

// MonitorAwake is the GODEBUG setting an agent is started with (Environ)
// to keep the Go runtime's monitor thread (sysmon) from its deep sleep.
// With every processor idle, as the agent is between two requests,
// sysmon sleeps until a goroutine's next system call wakes it (a futex
// wake of another thread), and then polls every 20 microseconds until
// the agent is idle again: on every request, with sysmon's thread
// competing with the client and the server for the cores. A scheduler
// trace interval keeps it out of that sleep (it backs off to a 10 ms
// poll instead): the agent's added p50 for a small Nomad GET fell from
// 0.32 to 0.23 ms on 2 cores (bench/agentbench A1). The price: an idle
// agent wakes about 100 times a second (0.1-0.4 % of a core measured
// here, and some battery on a laptop), where one without it wakes not
// at all; and the runtime compares the largest interval it takes,
// 2^31-1 ms, with the time since the machine booted, so on a machine up
// for more than 24.8 days the agent writes one line of scheduler state
// (counters only: "SCHED 0ms: gomaxprocs=1 idleprocs=1 threads=5 ...")
// to its stderr (agent.log) when it starts, and another every 24.8 days.
// A fatal error or an unrecovered panic prints the scheduler's state
// too (processor, thread and goroutine ids and states, no memory
// contents); one the runtime raises while it holds its scheduler lock
// (a runtime bug) would wait on that lock in the print instead of
// ending the process, as the runtime's own comments warn.
const MonitorAwake = "schedtrace=2147483647"

// Environ is env for starting `alilogin agent run` with: GODEBUG gets
// MonitorAwake added, unless it sets schedtrace itself
// (GODEBUG=schedtrace=0 turns it off).
func Environ(env []string) []string {
	out := make([]string, 0, len(env)+1)
	godebug, found := "", false
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok {
			godebug, found = v, true
			continue
		}
		out = append(out, kv)
	}
	if _, set := schedtrace(godebug); !set {
		if godebug != "" {
			godebug += ","
		}
		godebug += MonitorAwake
	}
	if godebug != "" || found {
		out = append(out, "GODEBUG="+godebug)
	}
	return out
}

// schedtrace is the schedtrace interval a GODEBUG value sets, and
// whether it sets one, as the runtime reads it at start-up: the last
// setting that parses as a 32-bit integer wins, one that does not
// ("x", or 99999999999) is passed over.
func schedtrace(godebug string) (int64, bool) {
	var n int64
	set := false
	for _, f := range strings.Split(godebug, ",") {
		if v, ok := strings.CutPrefix(f, "schedtrace="); ok {
			if x, err := strconv.ParseInt(v, 10, 32); err == nil {
				n, set = x, true
			}
		}
	}
	return n, set
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
	monitor := "monitor thread sleeps when idle"
	if n, _ := schedtrace(os.Getenv("GODEBUG")); n > 0 {
		monitor = "monitor thread kept awake"
	}
	return fmt.Sprintf("Go on %d %s (GOMAXPROCS), %s (GOMEMLIMIT), %s (GODEBUG schedtrace)", n, procs, limit, monitor)
}
