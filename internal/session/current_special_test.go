//go:build unix

package session

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/testutil"
)

// TestCurrentRefusesFileThatIsNoFile: a FIFO at the current-profile
// file, a symlink to /dev/zero or a file without end make every command
// without --profile fail at once, saying how to fix it (exit 2), instead
// of hanging or reading without end.
func TestCurrentRefusesFileThatIsNoFile(t *testing.T) {
	for _, kind := range []string{"fifo", "devzero", "huge"} {
		t.Run(kind, func(t *testing.T) {
			env := testutil.Home(t, nil)
			e := Env{Getenv: func(k string) string { return env[k] }}
			path, _ := CurrentPath(e.Getenv)
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				t.Fatal(err)
			}
			var err error
			switch kind {
			case "fifo":
				err = syscall.Mkfifo(path, 0o600)
			case "devzero":
				err = os.Symlink("/dev/zero", path)
			case "huge":
				err = os.WriteFile(path, []byte(strings.Repeat("a", 1<<20)), 0o600)
			}
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { _, err := Current(e); done <- err }()
			select {
			case err := <-done:
				var cf *CurrentFileError
				if codeOf(err) != exitUsage || !errors.As(err, &cf) || cf.Path != path || cf.NotRegular != (kind != "huge") {
					t.Errorf("Current on a %s: %v (exit %d), want exit %d and a *CurrentFileError for %s", kind, err, codeOf(err), exitUsage, path)
				}
			case <-time.After(10 * time.Second):
				if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
					f.Close()
				}
				t.Fatalf("Current blocked on a %s at the current-profile file", kind)
			}
		})
	}
}
