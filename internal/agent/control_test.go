package agent

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestControlServesOnlyItsUser: the control socket is 0600, and a peer
// whose uid (from the kernel, SO_PEERCRED) is not the agent's user gets
// a refusal and nothing else; so does such a peer on the routes.
func TestControlServesOnlyItsUser(t *testing.T) {
	up := newUpstream(t)
	fl := hourLoader(up.URL, false)
	ta := startAgent(t, Options{UID: os.Getuid() + 1, Loader: fl})
	fi, err := os.Stat(filepath.Join(ta.dir, SocketName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the socket: %v, mode %v, want 0600", err, fi.Mode().Perm())
	}
	for _, op := range []string{"status", "open", "stop"} {
		a, err := Call(context.Background(), ta.dir, Request{Op: op, Profile: "p"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(a.Error, "serves its own user only") || a.Status != nil || len(a.Gates) != 0 || a.Instance != "" {
			t.Errorf("%s from another uid: %+v", op, a)
		}
	}
	if fl.loads.Load() != 0 {
		t.Errorf("a profile was loaded for another uid")
	}
	// Still running (the stop was refused), and its routes refuse this
	// process too: it is not the agent's user.
	b, err := os.ReadFile(filepath.Join(ta.dir, InstanceName))
	if err != nil || len(strings.TrimSpace(string(b))) != 32 {
		t.Fatalf("instance file: %q %v", b, err)
	}
}

// TestLogoutDropsTheProfile: after a logout (the loader says nothing is
// stored), "sync" makes the agent forget the profile: its gates are
// refused, its gates file is gone, status lists it no more.
func TestLogoutDropsTheProfile(t *testing.T) {
	up := newUpstream(t)
	fl := hourLoader(up.URL, true)
	ta := startAgent(t, Options{Loader: fl})
	a, err := Call(context.Background(), ta.dir, Request{Op: "open", Profile: "p"})
	if err != nil || a.Error != "" || a.GatesFile == "" {
		t.Fatalf("open: %+v %v", a, err)
	}
	g := map[Kind]string{}
	for _, x := range a.Gates {
		g[x.Server] = x.Gate
	}
	gate := func(r *http.Request) { r.Header.Set("X-Vault-Token", g[Vault]) }
	if st, _ := ta.do(t, Vault, "/v1/sys/health", gate); st != 200 {
		t.Fatalf("before logout: %d", st)
	}
	// A sync while still logged in changes nothing.
	if _, err := Call(context.Background(), ta.dir, Request{Op: "sync"}); err != nil {
		t.Fatal(err)
	}
	if st, _ := ta.do(t, Vault, "/v1/sys/health", gate); st != 200 {
		t.Fatalf("after a sync while logged in: %d", st)
	}
	fl.stored.Store(false)
	// What logout runs: Sync finds the agent of the user's directory.
	if err := Sync(context.Background(), func(k string) string { return map[string]string{DirVar: ta.dir}[k] }); err != nil {
		t.Fatal(err)
	}
	if st, _ := ta.do(t, Vault, "/v1/sys/health", gate); st != http.StatusUnauthorized {
		t.Errorf("the gate after logout: %d, want 401", st)
	}
	if _, err := os.Stat(a.GatesFile); !os.IsNotExist(err) {
		t.Errorf("the gates file is left: %v", err)
	}
	st, err := Call(context.Background(), ta.dir, Request{Op: "status"})
	if err != nil || st.Status == nil || len(st.Status.Profiles) != 0 {
		t.Errorf("status after logout: %+v %v", st, err)
	}
}

// TestSyncWithoutAnAgentIsNoError: a logout on a machine where no agent
// ever ran (no directory) or none runs now (a directory, no socket)
// makes nothing and fails on nothing.
func TestSyncWithoutAnAgentIsNoError(t *testing.T) {
	missing, empty := noAgentDirs(t)
	for _, dir := range []string{missing, empty} {
		if err := Sync(context.Background(), dirEnv(dir)); err != nil {
			t.Errorf("Sync with %s: %v", dir, err)
		}
	}
	if _, err := os.Lstat(missing); !os.IsNotExist(err) {
		t.Errorf("Sync made the agent directory: %v", err)
	}
}

// noAgentDirs are an agent directory that does not exist and one with no
// agent in it.
func noAgentDirs(t *testing.T) (missing, empty string) {
	missing = filepath.Join(t.TempDir(), "none")
	empty = t.TempDir()
	if err := os.Chmod(empty, 0o700); err != nil {
		t.Fatal(err)
	}
	return missing, empty
}

// dirEnv is an environment naming dir as the agent directory.
func dirEnv(dir string) func(string) string {
	return func(k string) string { return map[string]string{DirVar: dir}[k] }
}

// CallRunning reaches the agent of the directory a command would use,
// and says ErrNotRunning, making nothing, when none runs there.
func TestCallRunningReachesOnlyARunningAgent(t *testing.T) {
	ctx := context.Background()
	missing, empty := noAgentDirs(t)
	for _, dir := range []string{missing, empty} {
		if _, err := CallRunning(ctx, dirEnv(dir), Request{Op: "status"}); !errors.Is(err, ErrNotRunning) {
			t.Errorf("with %s: %v, want ErrNotRunning", dir, err)
		}
	}
	if _, err := os.Lstat(missing); !os.IsNotExist(err) {
		t.Errorf("CallRunning made the agent directory: %v", err)
	}
	ta := startAgent(t, Options{Loader: hourLoader("http://127.0.0.1:1", true)})
	a, err := CallRunning(ctx, dirEnv(ta.dir), Request{Op: "status"})
	if err != nil || a.Status == nil {
		t.Fatalf("a running agent's status: %+v, %v", a, err)
	}
}

// Every call goes to a listener of the user's own uid only: one of
// another uid (at a path another user could write) gets no request, and
// a logout's sync says it could not reach the agent instead of taking it
// for none.
func TestControlCallsOnlyAListenerOfTheUser(t *testing.T) {
	ta := startAgent(t, Options{Loader: hourLoader("http://127.0.0.1:1", true)})
	old := ownUID
	t.Cleanup(func() { ownUID = old })
	ownUID = func() int { return os.Getuid() + 1 } // the agent is now "another user"
	if _, err := CallRunning(context.Background(), dirEnv(ta.dir), Request{Op: "status"}); !errors.Is(err, errNotAgent) {
		t.Errorf("status from a listener of another uid: %v, want %v", err, errNotAgent)
	}
	if err := Sync(context.Background(), dirEnv(ta.dir)); err == nil {
		t.Error("a logout's sync with a listener of another uid is no error")
	}
	ownUID = old
	if _, err := CallRunning(context.Background(), dirEnv(ta.dir), Request{Op: "status"}); err != nil {
		t.Errorf("status from the user's agent: %v", err)
	}
}

// TestLogoutEndsStreams: a stream served with a profile's token (a log
// followed, an event stream) ends when the profile is logged out: the
// gate's requests in flight die with it.
func TestLogoutEndsStreams(t *testing.T) {
	up := newUpstream(t)
	up.hook = func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}
	fl := hourLoader(up.URL, true)
	ta := startAgent(t, Options{Loader: fl})
	g := ta.open(t)
	req, _ := http.NewRequest("GET", ta.routes[Nomad]+"/v1/client/fs/logs/x?follow=true", nil)
	req.Header.Set("X-Nomad-Token", g[Nomad])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); err != nil || line != "first\n" {
		t.Fatalf("first line: %q %v", line, err)
	}
	fl.stored.Store(false)
	// What logout runs: Sync finds the agent of the user's directory.
	if err := Sync(context.Background(), func(k string) string { return map[string]string{DirVar: ta.dir}[k] }); err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	go func() { _, err := io.ReadAll(br); ended <- err }()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream still runs 10 s after the logout")
	}
}

// TestCallToAnEndingAgentIsNotRunning: a connection that an ending
// agent's socket took but never served (the kernel resets it when the
// socket closes with the killed process) is ErrNotRunning, so that the
// command starts a new agent instead of failing.
func TestCallToAnEndingAgentIsNotRunning(t *testing.T) {
	dir := t.TempDir()
	l, err := net.Listen("unix", filepath.Join(dir, SocketName))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		// The request arrives; the process ends before reading it: its
		// socket closes with the request unread.
		var b [1]byte
		_, _ = c.Read(b[:])
		c.Close()
	}()
	_, err = Call(context.Background(), dir, Request{Op: "status"})
	if !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Call to an agent that ended without reading: %v, want ErrNotRunning", err)
	}
}
