package e2e

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/testutil"
)

// nobody is the uid the broker runs as in TestBrokerNotDumpable when the
// tests run as root, whose own processes can read anything.
const nobody = 65534

// TestBrokerNotDumpable: the broker, which holds Vault, Nomad and Consul
// admin tokens, runs non-dumpable: its /proc/<pid>/environ (where those
// tokens are) and mem belong to root, not to the user it runs as.
func TestBrokerNotDumpable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := testutil.ShortTempDir(t, "broker-nodump-", 0)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The binary's directory is the test's own; let nobody run it.
	if err := os.Chmod(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	policies := filepath.Join(dir, "policies")
	if err := os.CopyFS(policies, os.DirFS("../../../policies")); err != nil {
		t.Fatal(err)
	}
	// A server that accepts and never answers: the broker waits on it
	// with its tokens read, for as long as the test needs.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	addr := "http://" + l.Addr().String()
	cmd := exec.CommandContext(ctx, bin, "plan", policies)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"VAULT_ADDR=" + addr, "VAULT_TOKEN=hvs.admin-token", "NOMAD_ADDR=" + addr, "NOMAD_TOKEN=nomad-admin-token",
		"CONSUL_HTTP_ADDR=" + addr, "CONSUL_HTTP_TOKEN=consul-admin-token"}
	uid := os.Getuid()
	if uid == 0 {
		uid = nobody
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() { cmd.Process.Kill(); <-done }()
	select {
	case c := <-accepted:
		defer c.Close()
	case err := <-done:
		t.Fatalf("broker plan ended (%v) before calling a server", err)
	case <-ctx.Done():
		t.Fatal("broker plan called no server")
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "environ"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != 0 {
		t.Errorf("the broker (uid %d) is dumpable: its /proc/<pid>/environ belongs to uid %d, want root", uid, st.Uid)
	}
}
