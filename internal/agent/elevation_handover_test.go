package agent

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/testutil"
)

// impostorEnv switches the test binary into the impostor (TestMain): a
// program of the user, not the alilogin agent, that listens on the
// agent's control socket (the directory is the user's: it may stop the
// real agent with a "stop" request and take its place) and writes what
// it is sent to a file.
const impostorEnv = "ALILOGIN_TEST_IMPOSTOR"

func TestMain(m *testing.M) {
	if spec := os.Getenv(impostorEnv); spec != "" {
		sock, got, _ := strings.Cut(spec, "\n")
		if err := impostor(sock, got); err != nil {
			os.Stderr.WriteString("impostor: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// impostor accepts one connection on sock, writes its first line to got
// and answers as an agent would.
func impostor(sock, got string) error {
	l, err := net.Listen("unix", sock)
	if err != nil {
		return err
	}
	defer l.Close()
	c, err := l.Accept()
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	line, err := bufio.NewReader(c).ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if err := os.WriteFile(got, line, 0o600); err != nil {
		return err
	}
	_, err = c.Write([]byte(`{"window":{"until":"2030-01-01T00:00:00Z","used":0,"servers":["vault"]}}` + "\n"))
	return err
}

// TestElevationIsHandedOnlyToTheAgent: the privileged tokens that
// alilogin elevate hands over go to the alilogin agent only. A program of
// the same user listening on the control socket in the agent's place
// (after a "stop" request, which any process of the user may send) must
// not receive them: with the raw tokens it has no window, no use budget
// and no guard, and can make privileged credentials of its own that
// outlive the window. The impostor is a copy of this test binary (same
// uid, same code, another file): only the agent's own executable passes.
func TestElevationIsHandedOnlyToTheAgent(t *testing.T) {
	dir := testutil.ShortTempDir(t, "agt", 0o700)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "impostor")
	if err := os.WriteFile(exe, bin, 0o700); err != nil {
		t.Fatal(err)
	}
	got := filepath.Join(dir, "got")
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), impostorEnv+"="+filepath.Join(dir, SocketName)+"\n"+got)
	cmd.Stderr = os.Stderr
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
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	b, _ := os.ReadFile(got)
	if strings.Contains(string(b), "priv-vault-handed-over") {
		t.Fatalf("the privileged Vault token went to a program that is not the alilogin agent (the caller saw: %+v, %v)", a, callErr)
	}
	if callErr == nil || !strings.Contains(callErr.Error(), "not the alilogin agent") {
		t.Fatalf("the caller was not told that the listener is not the agent: %+v, %v", a, callErr)
	}
	if strings.Contains(callErr.Error(), "priv-vault") {
		t.Errorf("the error names the token: %v", callErr)
	}
}

// TestElevationIsHandedToTheRealAgent: the check lets the handover
// through to the agent itself (same executable, same uid).
func TestElevationIsHandedToTheRealAgent(t *testing.T) {
	ta := startAgent(t, Options{Loader: envLoader{up: newUpstream(t).URL}, Guard: Rules{}})
	ta.open(t)
	if g := ta.elevateP(t, time.Now().Add(time.Hour), 0, Vault, Nomad); len(g) == 0 {
		t.Fatal("no elevated gates from the real agent")
	}
}
