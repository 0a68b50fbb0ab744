package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/alisw/alilogin/internal/termtext"
)

// The agent's side of the control protocol (control.go): each request
// from a peer of the agent's own uid.

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
		// The request is read (and dropped) first: an answer written
		// while the client is still writing would end in its broken
		// pipe, not in the refusal.
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		_ = json.NewDecoder(io.LimitReader(c, maxControl)).Decode(&Request{})
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
	case "elevate":
		if req.Profile == "" {
			return Answer{Error: "no profile given"}
		}
		return a.elevate(ctx, req)
	case "elevated":
		return a.elevatedGates(req.Profile, req.Kinds)
	case "end":
		return a.endOp(req)
	case "drop":
		a.drop(req.Profile)
		return Answer{}
	case "sync":
		a.sync(ctx)
		return Answer{}
	case "ui":
		return a.uiOpen(ctx, req)
	case "status":
		return Answer{Status: a.status()}
	case "stop":
		a.stop()
		return Answer{}
	}
	return Answer{Error: fmt.Sprintf("unknown request %q", termtext.Clean(req.Op))}
}

// loadProfile loads the profile req names (made on its first request)
// for req's kinds, through the renewal chain, with the environment of
// the latest opener.
func (a *Agent) loadProfile(ctx context.Context, req Request) (*profile, *Creds, error) {
	a.mu.Lock()
	p := a.profiles[req.Profile]
	if p == nil {
		p = &profile{name: req.Profile, loader: a.o.Loader, now: a.now, env: req.Env}
		a.profiles[req.Profile] = p
	}
	a.mu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.env = req.Env // the latest opener's configuration
	c, err := p.load(ctx, req.Kinds)
	return p, c, err
}

// open loads the profile (through the renewal chain, with the caller's
// environment), and issues a gate for each route asked for that the
// profile has.
func (a *Agent) open(ctx context.Context, req Request) Answer {
	if req.Profile == "" {
		return Answer{Error: "no profile given"}
	}
	p, c, err := a.loadProfile(ctx, req)
	if err != nil {
		if errors.Is(err, ErrNotLoggedIn) || errors.Is(err, ErrLoginNeeded) {
			a.dropProfile(p, "its login is gone or must be renewed by a new login")
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

// drop forgets profile: its credentials, its gates, its web UI
// sessions, its gates file.
func (a *Agent) drop(name string) {
	a.mu.Lock()
	p := a.profiles[name]
	delete(a.profiles, name)
	a.mu.Unlock()
	if p != nil {
		if w := p.currentWindow(); w != nil {
			a.endWindow(p, w, "the profile was dropped")
		}
	}
	a.gates.drop(name)
	a.ui.drop(name)
	if p != nil {
		p.close()
	}
	_ = os.Remove(a.gatesPath(name))
}

// dropProfile drops p, if it is still the opened profile of its name (a
// new one may have been opened since), as drop does.
func (a *Agent) dropProfile(p *profile, why string) {
	a.mu.Lock()
	cur := a.profiles[p.name] == p
	a.mu.Unlock()
	if cur {
		a.logf("profile %s: %s: its gates are dropped", p.name, why)
		a.drop(p.name)
		return
	}
	p.close()
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
		if w := p.currentWindow(); w != nil {
			ps.Window = w.status()
		}
		s.Profiles = append(s.Profiles, ps)
	}
	s.UISessions = a.ui.list(a.now())
	return s
}
