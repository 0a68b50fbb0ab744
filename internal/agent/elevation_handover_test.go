package agent

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/testutil"
)

// impostor is a program of the user, not the alilogin agent, that
// listens on the agent's control socket (the directory is the user's: it
// may stop the real agent with a "stop" request and take its place) and
// writes what it is sent to got.
const impostor = `
import socket, sys, os
path, got = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(1)
c, _ = s.accept()
buf = b""
while not buf.endswith(b"\n"):
    b = c.recv(65536)
    if not b:
        break
    buf += b
open(got, "wb").write(buf)
c.sendall(b'{"window":{"until":"2030-01-01T00:00:00Z","used":0,"servers":["vault"]}}\n')
c.close()
`

// TestElevationIsHandedOnlyToTheAgent: the privileged tokens that
// alilogin elevate hands over go to the alilogin agent only. A program of
// the same user listening on the control socket in the agent's place
// (after a "stop" request, which any process of the user may send) must
// not receive them: with the raw tokens it has no window, no use budget
// and no guard, and can make privileged credentials of its own that
// outlive the window.
func TestElevationIsHandedOnlyToTheAgent(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is needed to stand in for another program: %v", err)
	}
	dir, err := os.MkdirTemp("", "agt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	got := filepath.Join(dir, "got")
	cmd := exec.Command(py, "-c", impostor, filepath.Join(dir, SocketName), got)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	testutil.WaitFor(t, 30*time.Second, "the impostor's socket", func() bool {
		_, err := os.Stat(filepath.Join(dir, SocketName))
		return err == nil
	})

	until := time.Now().Add(10 * time.Minute)
	e := &Elevation{Until: until, Uses: 3, Tokens: []WireToken{{Server: Vault, Secret: "priv-vault-handed-over", ExpiresAt: until}}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a, callErr := Call(ctx, dir, Request{Op: "elevate", Profile: "p", Elevation: e})
	_ = cmd.Wait()
	b, _ := os.ReadFile(got)
	if strings.Contains(string(b), "priv-vault-handed-over") {
		t.Fatalf("the privileged Vault token went to a program that is not the alilogin agent (the caller saw: %+v, %v)", a, callErr)
	}
}
