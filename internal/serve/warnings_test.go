package serve

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/alisw/alilogin/internal/policy"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// policy.Load reports a hidden *.hcl left out (and
// unused policy files) as Config.Warnings rather than errors, on the
// ground that they are shown. `broker plan/apply` print them; `broker
// serve` drops them: a profile file that became hidden (".ops.hcl") is left
// out and, with --prune, its profiles are deleted with no word of why in
// the log.
func TestServeLogsLoadWarnings(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "profiles.hcl"), []byte("a b"), 0o644); err != nil {
		t.Fatal(err)
	}
	const warning = "p/.ops.hcl:1:1: hidden file left out (only files not starting with '.' are read)"
	load := func(d string) (*policy.Config, error) {
		cfg, err := fakeLoad(d)
		if cfg != nil {
			cfg.Warnings = []string{warning}
		}
		return cfg, err
	}
	var buf syncBuf
	srv, err := New(Options{Dir: dir, Load: load, Reconciler: &guardReconciler{}, WatchInterval: 3600e9, Interval: 3600e9,
		Log: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	waitFor(t, "the folder loaded", func() bool { return strings.Contains(buf.String(), "loaded the policies folder") })
	cancel()
	<-done
	if !strings.Contains(buf.String(), ".ops.hcl") {
		t.Errorf("serve's log does not show the load warning %q:\n%s", warning, buf.String())
	}
}
