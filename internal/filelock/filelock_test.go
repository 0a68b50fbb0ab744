package filelock

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestAcquire(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	l, err := Acquire(context.Background(), path, time.Second, time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	waited := 0
	if _, err := Acquire(context.Background(), path, 20*time.Millisecond, time.Millisecond, func() { waited++ }); !errors.Is(err, ErrTimeout) || waited != 1 {
		t.Errorf("held lock: err %v, waiting called %d times; want ErrTimeout after one call", err, waited)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Acquire(ctx, path, time.Minute, time.Millisecond, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("ended context: err %v, want context.Canceled", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	l2, err := Acquire(context.Background(), path, time.Second, time.Millisecond, func() { t.Error("waited for a free lock") })
	if err != nil {
		t.Fatalf("after Release: %v", err)
	}
	_ = l2.Release()
}
