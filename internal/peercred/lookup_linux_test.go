package peercred

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// listen4 listens on a free port of 127.0.0.1 until the test ends.
func listen4(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// dial connects to l over network, a connection open until the test
// ends.
func dial(t *testing.T, network string, l net.Listener) net.Conn {
	t.Helper()
	c, err := net.Dial(network, l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// accept accepts one connection on l, failing the test after a while.
func accept(t testing.TB, l net.Listener) net.Conn {
	t.Helper()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() { c, err := l.Accept(); ch <- res{c, err} }()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatal(r.err)
		}
		t.Cleanup(func() { r.c.Close() })
		return r.c
	case <-time.After(30 * time.Second):
		l.Close()
		t.Fatal("no connection came")
		return nil
	}
}

// TestLookupOwnConnection: a real loopback connection from this process
// is this user's, over IPv4, IPv6 and from an IPv6 socket to an IPv4
// listener (the client in tcp6 with IPv4-mapped addresses).
func TestLookupOwnConnection(t *testing.T) {
	me := uint32(os.Geteuid())
	t.Run("127.0.0.1", func(t *testing.T) {
		l := listen4(t)
		dial(t, "tcp4", l)
		if uid, err := Lookup(accept(t, l)); err != nil || uid != me {
			t.Fatalf("Lookup = %d, %v; want %d", uid, err, me)
		}
	})
	t.Run("IPv4-mapped", func(t *testing.T) {
		l := listen4(t)
		// An AF_INET6 socket connected to ::ffff:127.0.0.1.
		fd, err := syscall.Socket(syscall.AF_INET6, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer syscall.Close(fd)
		sa := &syscall.SockaddrInet6{Port: l.Addr().(*net.TCPAddr).Port}
		copy(sa.Addr[:], net.ParseIP("127.0.0.1").To16())
		if err := syscall.Connect(fd, sa); err != nil {
			t.Fatal(err)
		}
		if uid, err := Lookup(accept(t, l)); err != nil || uid != me {
			t.Fatalf("Lookup = %d, %v; want %d", uid, err, me)
		}
	})
	t.Run("[::1]", func(t *testing.T) {
		l, err := net.Listen("tcp6", "[::1]:0")
		if err != nil {
			// Docker without IPv6: nothing to look up.
			t.Logf("no IPv6 loopback here (%v): tcp6 with ::1 covered by TestFindSockets only", err)
			return
		}
		defer l.Close()
		dial(t, "tcp6", l)
		if uid, err := Lookup(accept(t, l)); err != nil || uid != me {
			t.Fatalf("Lookup = %d, %v; want %d", uid, err, me)
		}
	})
}

// TestLookupOtherUser: a connection made by a process of another uid
// (nobody) is that uid's, not the listener's.
func TestLookupOtherUser(t *testing.T) {
	requireRoot(t)
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal(err)
	}
	l := listen4(t)
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	// bash as nobody holds the connection open until its stdin closes.
	cmd := exec.Command(bash, "-c", `exec 3<>/dev/tcp/127.0.0.1/`+port+` && read -r _`)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); _ = cmd.Wait() }()
	c := accept(t, l)
	if uid, err := Lookup(c); err != nil || uid != 65534 {
		t.Fatalf("Lookup = %d, %v; want 65534", uid, err)
	}
}

// TestLookupRefusesOtherConnections: not TCP, or not on loopback: an
// error, never a uid.
func TestLookupRefusesOtherConnections(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if uid, err := Lookup(a); err == nil {
		t.Errorf("a pipe: uid %d", uid)
	}
	// A connection that closed before the lookup: its client socket is
	// gone or ownerless.
	l := listen4(t)
	c := dial(t, "tcp4", l)
	s := accept(t, l)
	c.Close()
	// Wait for the FIN, so that the client socket is orphaned.
	if _, err := s.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("read: %v", err)
	}
	s.Close()
	if uid, err := Lookup(s); err == nil {
		t.Errorf("a closed connection: uid %d", uid)
	}
}

// TestOnlyUser: the middleware serves the connection's owner and refuses
// another uid and a server that did not record its connections.
func TestOnlyUser(t *testing.T) {
	me := uint32(os.Geteuid())
	for _, tc := range []struct {
		name    string
		uid     uint32
		connCtx bool
		want    int
		other   bool
	}{
		{"own", me, true, http.StatusOK, false},
		{"another uid", me + 1, true, http.StatusForbidden, true},
		{"no ConnContext", me, false, http.StatusForbidden, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var refusedWith error
			h := OnlyUser(tc.uid, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }),
				func(w http.ResponseWriter, r *http.Request, err error) {
					refusedWith = err
					w.WriteHeader(http.StatusForbidden)
				})
			l := listen4(t)
			srv := &http.Server{Handler: h}
			if tc.connCtx {
				srv.ConnContext = ConnContext
			}
			go func() { _ = srv.Serve(l) }()
			defer srv.Close()
			resp, err := http.Get("http://" + l.Addr().String() + "/")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
			var oe *OtherUserError
			if errors.As(refusedWith, &oe) != tc.other || (tc.other && oe.UID != me) {
				t.Errorf("refused with %v", refusedWith)
			}
		})
	}
}

// requireRoot: the test needs to start a process as another uid. CI runs
// as root; elsewhere the test is skipped, in CI it fails.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("this test runs a process as another uid and needs root; CI runs as root")
	}
	t.Skip("needs root to run a process as another uid (in CI, with CI=true, this fails)")
}
