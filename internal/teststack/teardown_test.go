package teststack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCloseLeavesNothing starts a second, partial stack and checks that
// Close ends every process group and removes the temporary directory.
func TestCloseLeavesNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{NoNomad: true, NoHydra: true, NoKeyring: true})
	if err != nil {
		t.Fatal(err)
	}
	var pgids []int
	for _, p := range s.procs {
		pgids = append(pgids, p.cmd.Process.Pid)
	}
	if len(pgids) != 2 {
		t.Fatalf("want vault and consul running, got %d processes", len(pgids))
	}
	dir := s.Dir()
	s.Close()
	for _, pg := range pgids {
		if err := syscall.Kill(-pg, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process group %d still exists after Close (kill 0: %v)", pg, err)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("stack dir %s still exists: %v", dir, err)
	}
}

// TestMissingBinaryIsAnError makes sure a missing server fails loudly
// instead of skipping.
func TestMissingBinaryIsAnError(t *testing.T) {
	t.Setenv("ALILOGIN_STACK_BIN", t.TempDir())
	_, err := Start(context.Background(), Options{NoNomad: true, NoConsul: true, NoHydra: true, NoKeyring: true})
	if err == nil {
		t.Fatal("Start succeeded without a vault binary")
	}
	if want := "tools/stack/build.sh"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say how to build (%s)", err, want)
	}
}

// TestWaitForStopsAtABrokenServer: a server whose check says it is
// broken (errBroken: Hydra that lost its in-memory tables) ends the wait
// at once, so that the stack can start it again, instead of polling it
// until the deadline.
func TestWaitForStopsAtABrokenServer(t *testing.T) {
	p, err := startProc("sleeper", t.TempDir(), "/bin/sleep", []string{"60"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	checks := 0
	err = p.waitFor(ctx, "ready", func(context.Context) error {
		checks++
		if checks < 3 {
			return errors.New("not yet")
		}
		return fmt.Errorf("%w: %s", errBroken, hydraLostTables)
	})
	if !errors.Is(err, errBroken) || checks != 3 || ctx.Err() != nil {
		t.Fatalf("after %d checks: %v (context: %v); want the broken state at the third check", checks, err, ctx.Err())
	}
}

// TestAnEndedServerHoldsItsGroupUntilStopped: a server that ends by itself
// is not reaped until stop has signalled its group, so that the number
// stop signals (-pgid) cannot have gone to another test's process group
// in between; its exit status is still reported.
func TestAnEndedServerHoldsItsGroupUntilStopped(t *testing.T) {
	p, err := startProc("quitter", t.TempDir(), "/bin/sh", []string{"-c", "exit 3"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		t.Fatal("sh -c 'exit 3' did not end")
	}
	if p.err == nil || p.err.Error() != "exit status 3" {
		t.Errorf("status %v, want exit status 3", p.err)
	}
	pid := p.cmd.Process.Pid
	if st := procState(pid); st != "Z" {
		t.Fatalf("the ended server's pid %d is in state %q, want Z (held, not reaped)", pid, st)
	}
	p.stop()
	if st := procState(pid); st == "Z" {
		t.Errorf("pid %d is still a zombie after stop", pid)
	}
}

// procState returns the state letter of pid from /proc, or "" when the
// pid does not exist.
func procState(pid int) string {
	if f, err := statFields(pid); err == nil && len(f) > 0 {
		return f[0]
	}
	return ""
}
