package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/alisw/alilogin/internal/atomicfile"
	"github.com/alisw/alilogin/internal/filelock"
	"github.com/alisw/alilogin/internal/peercred"
	"github.com/alisw/alilogin/internal/termtext"
)

// Options configure Run.
type Options struct {
	Dir    string // Dir(): the socket, lock, instance and audit files
	UID    int    // the user: the only peer served
	Loader Loader
	Guard  Guard // nil: Rules (internal/agent/guard)
	Stderr io.Writer
	Now    func() time.Time
	// Ready is called once the agent answers on its socket.
	Ready func()
	// Memory says whether the agent's memory is kept out of swap, for
	// status.
	Memory string

	// running is called with the agent once it serves (tests).
	running func(*Agent)
}

// ErrRunning: another agent holds the directory's lock.
var ErrRunning = errors.New("an alilogin agent is running already")

// Agent is a running agent.
type Agent struct {
	o        Options
	instance string
	started  time.Time
	gates    *gates
	limits   limiters
	audit    *audit
	guard    Guard
	errLog   *log.Logger
	routes   map[Kind]string // kind -> 127.0.0.1:PORT
	peers    peerLog         // otheruser.go
	ui       *uiSessions     // the web UIs' one-time links and sessions (uisession.go)
	// handlers are the routes' requests being served, websockets
	// included (the HTTP servers' Shutdown does not wait for those).
	handlers sync.WaitGroup

	mu       sync.Mutex
	profiles map[string]*profile
	stop     context.CancelFunc
}

func (a *Agent) now() time.Time {
	if a.o.Now != nil {
		return a.o.Now()
	}
	return time.Now()
}

func (a *Agent) logf(format string, args ...any) {
	fmt.Fprintf(a.o.Stderr, "alilogin agent: "+format+"\n", args...)
}

// Run runs the agent until ctx ends or a client asks it to stop: it
// takes the directory's lock (ErrRunning when another agent has it),
// listens on the control socket and on a loopback port per route, and
// on the way out removes its socket and instance file. Everything it
// held is in its memory only and goes with it.
func Run(ctx context.Context, o Options) error {
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if o.Guard == nil {
		o.Guard = Rules{}
	}
	lock, err := filelock.Acquire(ctx, filepath.Join(o.Dir, lockName), 0, 10*time.Millisecond, nil)
	if errors.Is(err, filelock.ErrTimeout) {
		return ErrRunning
	}
	if err != nil {
		return fmt.Errorf("could not lock the agent directory: %w", err)
	}
	defer lock.Release()

	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return fmt.Errorf("could not make the agent's instance id: %w", err)
	}
	a := &Agent{o: o, instance: hex.EncodeToString(id), guard: o.Guard,
		profiles: map[string]*profile{}, routes: map[Kind]string{}, ui: newUISessions()}
	a.gates = newGates(a.now)
	a.started = a.now()
	a.errLog = log.New(&lineWriter{w: o.Stderr}, "", 0)
	ctx, a.stop = context.WithCancel(ctx)
	defer a.stop()

	// A dead agent's files: its socket, its instance and gates files.
	sock := filepath.Join(o.Dir, SocketName)
	_ = os.Remove(sock)
	a.removeGatesFiles()
	ctl, err := net.Listen("unix", sock)
	if err != nil {
		return fmt.Errorf("could not listen on the agent's socket: %w", err)
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		ctl.Close()
		return fmt.Errorf("could not make the agent's socket private: %w", err)
	}
	a.audit = newAudit(filepath.Join(o.Dir, AuditName), o.Stderr)
	defer a.audit.close()

	var servers []*http.Server
	var wg sync.WaitGroup
	for _, k := range Kinds {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			ctl.Close()
			return fmt.Errorf("could not listen on loopback for the %s route: %w", k.Title(), err)
		}
		host := l.Addr().String()
		a.routes[k] = host
		var h http.Handler = &route{a: a, kind: k, host: host}
		srv := &http.Server{Handler: h, ConnContext: connContext, ReadHeaderTimeout: 30 * time.Second,
			IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 1 << 20, ErrorLog: a.errLog}
		if peercred.Supported() {
			u := &unchecked{uid: uint32(o.UID)}
			srv.Handler, srv.ConnState = a.onlyUser(k, u, h), u.connState // otheruser.go
		}
		servers = append(servers, srv)
		wg.Add(1)
		go func() { defer wg.Done(); _ = srv.Serve(l) }()
	}
	if err := atomicfile.Write(filepath.Join(o.Dir, InstanceName), []byte(a.instance+"\n")); err != nil {
		ctl.Close()
		return fmt.Errorf("could not write the agent's instance file: %w", err)
	}
	defer os.Remove(filepath.Join(o.Dir, InstanceName))
	defer a.removeGatesFiles()
	defer os.Remove(sock)

	wg.Add(1)
	go func() { defer wg.Done(); a.serveControl(ctx, ctl) }()
	a.logf("running (instance %s): nomad %s, consul %s, vault %s; socket %s", a.instance[:8], a.routes[Nomad], a.routes[Consul], a.routes[Vault], sock)
	if o.running != nil {
		o.running(a)
	}
	if o.Ready != nil {
		o.Ready()
	}
	<-ctx.Done()
	ctl.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(sctx); err != nil {
			_ = s.Close() // streams and websockets end with the agent
		}
	}
	a.mu.Lock()
	for _, p := range a.profiles {
		if w := p.currentWindow(); w != nil {
			a.endWindow(p, w, "the agent stops")
		}
		p.close()
	}
	a.profiles = map[string]*profile{}
	a.mu.Unlock()
	wg.Wait()
	// The requests in flight end with their profiles: their audit lines
	// are written before the log closes.
	ended := make(chan struct{})
	go func() { a.handlers.Wait(); close(ended) }()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		a.logf("warning: requests still in flight at the stop; their audit lines are lost")
	}
	a.logf("stopped")
	return nil
}

// profile is the opened profile name, nil when it is not open.
func (a *Agent) profile(name string) *profile {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.profiles[name]
}

// lineWriter prefixes the HTTP servers' and proxies' log lines.
type lineWriter struct{ w io.Writer }

func (l *lineWriter) Write(b []byte) (int, error) {
	_, err := fmt.Fprintf(l.w, "alilogin agent: %s\n", termtext.Clean(strings.TrimRight(string(b), "\n")))
	return len(b), err
}
