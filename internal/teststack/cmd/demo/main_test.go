package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/teststack"
)

// TestDemoIntoAPipe: `make demo` with its output into a pipe (a CI log,
// `| tee`) runs to its end on the real stack (headless sign-in, the
// Nomad and Consul CLIs working with the tokens) and writes no escape
// sequence: its step lines are bold only on a terminal.
func TestDemoIntoAPipe(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bins, err := teststack.BuildBinaries(ctx, t.TempDir(), "github.com/alisw/alilogin/internal/teststack/cmd/demo")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, bins[0], "-auto")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr // pipes, not a terminal
	cmd.Dir = filepath.Join("..", "..", "..", "..")
	if err := cmd.Run(); err != nil {
		t.Fatalf("demo: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	for name, out := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String()} {
		if i := strings.IndexByte(out, 0x1b); i >= 0 {
			t.Errorf("the demo wrote an escape sequence into its %s pipe at byte %d: %q", name, i, out[max(0, i-40):min(len(out), i+40)])
		}
	}
	if !strings.Contains(stderr.String(), "==> done") {
		t.Errorf("the demo did not reach its end:\n%s", stderr.String())
	}
}
