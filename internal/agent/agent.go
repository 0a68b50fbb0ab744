package agent

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
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
	a := &Agent{o: o, instance: hex.EncodeToString(id), gates: newGates(), guard: o.Guard,
		profiles: map[string]*profile{}, routes: map[Kind]string{}}
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
			return fmt.Errorf("could not listen on loopback for the %s route: %w", apiOf(k), err)
		}
		host := l.Addr().String()
		a.routes[k] = host
		var h http.Handler = &route{a: a, kind: k, host: host}
		if peercred.Supported() {
			h = peercred.OnlyUser(uint32(o.UID), h, func(w http.ResponseWriter, r *http.Request, err error) {
				a.audit.log(Event{Time: a.now(), Server: k, Method: r.Method, Path: r.URL.Path, Status: http.StatusForbidden, Refused: "another user's connection"})
				http.Error(w, "refused: this alilogin agent serves its own user only", http.StatusForbidden)
			})
		}
		srv := &http.Server{Handler: h, ConnContext: connContext, ReadHeaderTimeout: 30 * time.Second,
			IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 1 << 20, ErrorLog: a.errLog}
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
		p.close()
	}
	a.profiles = map[string]*profile{}
	a.mu.Unlock()
	wg.Wait()
	a.logf("stopped")
	return nil
}

// profile is the opened profile name, nil when it is not open.
func (a *Agent) profile(name string) *profile {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.profiles[name]
}

// serveControl answers the control socket, one goroutine per client.
func (a *Agent) serveControl(ctx context.Context, l net.Listener) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			a.control(ctx, c.(*net.UnixConn))
		}()
	}
}

func (a *Agent) control(ctx context.Context, c *net.UnixConn) {
	uid, _, err := unixPeer(c)
	if err != nil || uid != a.o.UID {
		if err == nil {
			err = fmt.Errorf("uid %d is not the agent's user", uid)
		}
		a.logf("refused a control connection: %v", err)
		_ = json.NewEncoder(c).Encode(Answer{Error: "refused: this alilogin agent serves its own user only"})
		return
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Minute))
	var req Request
	if err := json.NewDecoder(bufio.NewReader(io.LimitReader(c, maxControl))).Decode(&req); err != nil {
		_ = json.NewEncoder(c).Encode(Answer{Error: "could not read the request: " + err.Error()})
		return
	}
	ans := a.handle(ctx, req)
	ans.Instance = a.instance
	_ = json.NewEncoder(c).Encode(ans)
}

func (a *Agent) handle(ctx context.Context, req Request) Answer {
	switch req.Op {
	case "open":
		return a.open(ctx, req)
	case "drop":
		a.drop(req.Profile)
		return Answer{}
	case "sync":
		a.sync(ctx)
		return Answer{}
	case "status":
		return Answer{Status: a.status()}
	case "stop":
		a.stop()
		return Answer{}
	}
	return Answer{Error: fmt.Sprintf("unknown request %q", termtext.Clean(req.Op))}
}

// open loads the profile (through the renewal chain, with the caller's
// environment), and issues a gate for each route asked for that the
// profile has.
func (a *Agent) open(ctx context.Context, req Request) Answer {
	if req.Profile == "" {
		return Answer{Error: "no profile given"}
	}
	a.mu.Lock()
	p := a.profiles[req.Profile]
	if p == nil {
		p = &profile{name: req.Profile, loader: a.o.Loader, now: a.now, env: req.Env}
		a.profiles[req.Profile] = p
	}
	a.mu.Unlock()
	p.mu.Lock()
	p.env = req.Env // the latest opener's configuration
	c, err := p.load(ctx, req.Kinds)
	p.mu.Unlock()
	if err != nil {
		if errors.Is(err, ErrNotLoggedIn) {
			a.drop(req.Profile)
		}
		return Answer{Error: err.Error(), LoginNeeded: errors.Is(err, ErrLoginNeeded) || errors.Is(err, ErrNotLoggedIn)}
	}
	kinds := req.Kinds
	if len(kinds) == 0 {
		kinds = Kinds
	}
	var ans Answer
	for _, k := range kinds {
		if c.Tokens[k] == nil || c.Servers[k].Addr == "" {
			continue
		}
		g, err := a.gates.issue(req.Profile, k)
		if err != nil {
			return Answer{Error: err.Error()}
		}
		ans.Gates = append(ans.Gates, Gate{Server: k, Addr: "http://" + a.routes[k], Gate: g})
	}
	ans.GatesFile, ans.GatesGen, err = a.gatesFile(req.Profile)
	if err != nil {
		a.logf("warning: %v", err)
	}
	return ans
}

// drop forgets profile: its credentials, its gates, its gates file.
func (a *Agent) drop(name string) {
	a.mu.Lock()
	p := a.profiles[name]
	delete(a.profiles, name)
	a.mu.Unlock()
	a.gates.drop(name)
	if p != nil {
		p.close()
	}
	_ = os.Remove(a.gatesPath(name))
}

// sync drops every opened profile whose login is no longer stored: a
// logout tells the agent so, whichever profiles it chose.
func (a *Agent) sync(ctx context.Context) {
	a.mu.Lock()
	var ps []*profile
	for _, p := range a.profiles {
		ps = append(ps, p)
	}
	a.mu.Unlock()
	for _, p := range ps {
		p.mu.Lock()
		env := p.env
		p.mu.Unlock()
		stored, err := a.o.Loader.Stored(ctx, p.name, env)
		if err != nil {
			a.logf("warning: could not check whether profile %s is still logged in: %v", p.name, err)
			continue
		}
		if !stored {
			a.logf("profile %s was logged out: its gates are dropped", p.name)
			a.drop(p.name)
		}
	}
}

func (a *Agent) status() *Status {
	s := &Status{Instance: a.instance, PID: os.Getpid(), Started: a.started, Dir: a.o.Dir, Routes: map[Kind]string{}, Memory: a.o.Memory}
	for k, h := range a.routes {
		s.Routes[k] = "http://" + h
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, p := range a.profiles {
		ps := ProfileStatus{Name: p.name, Servers: p.servers(), Gates: a.gates.count(p.name), Requests: p.requests.Load(), Errors: p.errors.Load()}
		if e := p.lastErr.Load(); e != nil {
			ps.LastError = *e
		}
		s.Profiles = append(s.Profiles, ps)
	}
	return s
}

// The gates file of a profile changes whenever its gates die: written
// with new random content when the profile is first opened in this
// agent, removed when it is dropped and when the agent stops (or
// starts, after one that died). The shell hook's agent mode watches it
// with the shell's read builtin.
func (a *Agent) gatesPath(profile string) string { return filepath.Join(a.o.Dir, profile+genSuffix) }

func (a *Agent) gatesFile(profile string) (string, string, error) {
	p := a.gatesPath(profile)
	if b, err := os.ReadFile(p); err == nil && strings.HasPrefix(string(b), a.instance) {
		return p, strings.TrimSpace(string(b)), nil
	}
	r := make([]byte, 8)
	if _, err := rand.Read(r); err != nil {
		return "", "", err
	}
	gen := a.instance + "-" + hex.EncodeToString(r)
	if err := atomicfile.Write(p, []byte(gen+"\n")); err != nil {
		return "", "", fmt.Errorf("could not write the gates file of profile %s: %w", profile, err)
	}
	return p, gen, nil
}

func (a *Agent) removeGatesFiles() {
	m, _ := filepath.Glob(filepath.Join(a.o.Dir, "*"+genSuffix))
	for _, f := range m {
		_ = os.Remove(f)
	}
}

// lineWriter prefixes the HTTP servers' and proxies' log lines.
type lineWriter struct{ w io.Writer }

func (l *lineWriter) Write(b []byte) (int, error) {
	_, err := fmt.Fprintf(l.w, "alilogin agent: %s\n", termtext.Clean(strings.TrimRight(string(b), "\n")))
	return len(b), err
}
