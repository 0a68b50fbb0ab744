package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openTerminal opens a pseudo-terminal: the process's side (tty) and
// ours (ptm).
func openTerminal(t *testing.T) (ptm, tty *os.File) {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("could not open a pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { ptm.Close() })
	fd := int(ptm.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("could not unlock the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("could not name the pseudo-terminal: %v", err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("could not open the pseudo-terminal: %v", err)
	}
	return ptm, tty
}

// brokerOnTerminal runs the broker binary with args against the stack,
// with stdin and stderr on a terminal on which answer is typed; it returns
// the exit code, stdout and what the terminal showed.
func brokerOnTerminal(t *testing.T, answer string, args ...string) (code int, stdout, terminal string) {
	t.Helper()
	ptm, tty := openTerminal(t)
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = processEnv(brokerEnv())
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, &out, tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close() // the process holds it now
	shown := make(chan string, 1)
	go func() {
		var b strings.Builder
		_, _ = io.Copy(&b, ptm) // until the process closes the terminal (EIO)
		shown <- b.String()
	}()
	if _, err := io.WriteString(ptm, answer); err != nil {
		t.Fatal(err)
	}
	code = exitCode(t, cmd.Wait())
	return code, out.String(), <-shown
}
