//go:build unix

package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestReadSmallRefusesWhatIsNoRegularFile: a symlink (even to a regular
// file), a FIFO with no writer, a device and a directory are refused at
// once with ErrNotRegular; a regular file is read up to max bytes.
func TestReadSmallRefusesWhatIsNoRegularFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := Write(file, []byte("ci\nmore")); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadSmall(file, 3); err != nil || string(b) != "ci\n" {
		t.Errorf("ReadSmall(a file, 3) = %q, %v; want \"ci\\n\"", b, err)
	}
	if b, err := ReadSmall(file, 100); err != nil || string(b) != "ci\nmore" {
		t.Errorf("ReadSmall(a file, 100) = %q, %v", b, err)
	}
	link := filepath.Join(dir, "link")
	fifo := filepath.Join(dir, "fifo")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{link, fifo, "/dev/zero", dir} {
		done := make(chan error, 1)
		go func() { _, err := ReadSmall(p, 100); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, ErrNotRegular) {
				t.Errorf("ReadSmall(%s) = %v, want ErrNotRegular", p, err)
			}
		case <-time.After(10 * time.Second):
			if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				f.Close()
			}
			t.Fatalf("ReadSmall blocked on %s", p)
		}
	}
	if _, err := ReadSmall(filepath.Join(dir, "none"), 100); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadSmall(a missing file) = %v, want ErrNotExist", err)
	}
}
