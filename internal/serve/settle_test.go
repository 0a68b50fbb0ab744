package serve

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/policy"
	"github.com/alisw/alilogin/internal/testutil"
)

type reviewRecorder struct {
	mu   sync.Mutex
	seen []string
}

func (c *reviewRecorder) Reconcile(_ context.Context, cfg *policy.Config) (Outcome, error) {
	var names []string
	for _, p := range cfg.Profiles {
		names = append(names, p.Name)
	}
	c.mu.Lock()
	c.seen = append(c.seen, strings.Join(names, " "))
	c.mu.Unlock()
	return Outcome{Found: map[string]int{}, Fixed: map[string]int{}}, nil
}

func (c *reviewRecorder) runs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.seen...)
}

// loadIfChanged waits for the folder's fingerprint to be
// the same on two polls ("a folder caught in the middle of being rewritten
// is not loaded (a truncated file can parse; with --prune that would
// delete)"), then calls Load, which reads the folder again. A rewrite that
// starts between the fingerprint and Load is read half-done and applied;
// worse, lastHash is the fingerprint taken before Load, so once the
// rewrite ends (the folder back to the settled content) nothing looks
// changed and the half-read configuration stays in force for good: with
// --prune the profiles the truncated file lacked are deleted and never
// come back, until the next unrelated edit.
//
// Must: accept a load only when the folder's fingerprint after Load equals
// the settled one (or hash exactly the bytes Load read).
func TestHalfRewrittenFolderIsNotKeptInForce(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "profiles.hcl")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a b c")
	var loads atomic.Int32
	load := func(d string) (*policy.Config, error) {
		if loads.Add(1) == 2 {
			// The deploy tool starts rewriting profiles.hcl right after
			// the fingerprint: Load reads it cut short...
			write("a")
			cfg, err := fakeLoad(d)
			// ...and the rewrite completes.
			write("a b c d")
			return cfg, err
		}
		return fakeLoad(d)
	}
	rec := &reviewRecorder{}
	startServer(t, Options{Dir: dir, Load: load, Reconciler: rec, WatchInterval: 20 * time.Millisecond, Interval: 3600e9})
	testutil.WaitFor(t, 5*time.Second, "the first reconcile", func() bool { return len(rec.runs()) == 1 })
	write("a b c d")
	// The watcher settles on what is on disk (waitFor gives it 5s: many
	// polls of 20ms).
	testutil.WaitFor(t, 5*time.Second, `the folder's "a b c d" to be reconciled`, func() bool {
		runs := rec.runs()
		return runs[len(runs)-1] == "a b c d"
	})
}
