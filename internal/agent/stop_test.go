package agent

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/filelock"
)

// TestStopIsSeenOnceTheAgentHasEnded: the agent answers "stop" before it
// has ended (here, while it lets a request in flight finish); WaitEnded
// returns once it has, and then its lock is free for the next agent.
func TestStopIsSeenOnceTheAgentHasEnded(t *testing.T) {
	up := newUpstream(t)
	arrived := make(chan struct{})
	up.hook = func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done() // held until the agent cuts it
	}
	ta := startAgent(t, Options{Loader: hourLoader(up.URL, true)})
	g := ta.open(t)
	go func() {
		r, _ := http.NewRequest("GET", ta.routes[Nomad]+"/v1/jobs", nil)
		r.Header.Set("X-Nomad-Token", g[Nomad])
		if resp, err := http.DefaultClient.Do(r); err == nil {
			resp.Body.Close()
		}
	}()
	select {
	case <-arrived:
	case <-time.After(time.Minute):
		t.Fatal("the request never reached the upstream")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if a, err := Call(ctx, ta.dir, Request{Op: "stop"}); err != nil || a.Error != "" {
		t.Fatalf("stop: %v %s", err, a.Error)
	}
	lockPath := filepath.Join(ta.dir, lockName)
	// Answered, not ended: the agent still gives the request its grace.
	if l, err := filelock.Acquire(ctx, lockPath, 0, time.Millisecond, nil); !errors.Is(err, filelock.ErrTimeout) {
		l.Release()
		t.Fatalf("the lock was free right after the stop's answer (%v): nothing to wait for", err)
	}
	if err := WaitEnded(ctx, ta.dir); err != nil {
		t.Fatal(err)
	}
	l, err := filelock.Acquire(ctx, lockPath, 0, time.Millisecond, nil)
	if err != nil {
		t.Fatalf("after WaitEnded the lock is still held: %v", err)
	}
	l.Release()
}
