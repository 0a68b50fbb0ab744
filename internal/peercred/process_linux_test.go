package peercred

import (
	"net"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
)

// clientProcess starts bash holding a connection to l open until the
// test ends, and returns it with the accepted end.
func clientProcess(t testing.TB, l net.Listener) (*exec.Cmd, net.Conn) {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	cmd := exec.Command(bash, "-c", `exec 3<>/dev/tcp/127.0.0.1/`+port+` && read -r _`)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	return cmd, accept(t, l)
}

// TestProcessFindsTheClient: the process holding the client end of an
// accepted loopback connection is found, with its executable.
func TestProcessFindsTheClient(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cmd, c := clientProcess(t, l)
	pid, exe, err := Process(c.LocalAddr(), c.RemoteAddr())
	if err != nil || pid != cmd.Process.Pid || exe != cmd.Path {
		t.Fatalf("Process = %d %q, %v; want %d %q", pid, exe, err, cmd.Process.Pid, cmd.Path)
	}
}

// BenchmarkProcessOfNewClient: the lookup of a process that has just
// connected (a CLI's), among all the processes of the host.
func BenchmarkProcessOfNewClient(b *testing.B) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	cmd, c := clientProcess(b, l)
	b.ReportAllocs()
	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	for b.Loop() {
		if pid, _, err := Process(c.LocalAddr(), c.RemoteAddr()); err != nil || pid != cmd.Process.Pid {
			b.Fatalf("Process = %d, %v", pid, err)
		}
	}
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano()
	b.ReportMetric(float64(cpu)/1e3/float64(b.N), "cpu-µs/op")
}
