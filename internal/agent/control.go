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
	"path/filepath"
	"syscall"
	"time"

	"github.com/alisw/alilogin/internal/filelock"
)

// The control protocol: one JSON request and one JSON answer per
// connection, each a line, on the 0600 UNIX socket. The peer's uid is
// checked by the kernel's record of it (SO_PEERCRED) before the request
// is read.

// Request is what a client asks.
type Request struct {
	// Op: "open" (the profile's gates, loading it), "elevate" (open an
	// attended window with Elevation and return its elevated gates),
	// "elevated" (elevated gates of the open window), "end" (end the
	// window now), "drop" (forget the
	// profile and its gates), "sync" (forget every profile no longer
	// logged in: a logout), "ui" (a one-time URL that signs a browser in
	// to the web UI of Kinds[0], loading the profile: ui.go), "status",
	// "stop".
	Op      string   `json:"op"`
	Profile string   `json:"profile,omitempty"`
	Kinds   []Kind   `json:"kinds,omitempty"` // open: the routes wanted; empty: all the profile has
	Env     []string `json:"env,omitempty"`   // open: the caller's environment (configuration, store, keyring)
	// Elevation (elevate): the privileged tokens of an attended window
	// (elevated.go).
	Elevation *Elevation `json:"elevation,omitempty"`
}

// Answer is the agent's reply.
type Answer struct {
	Error string `json:"error,omitempty"`
	// LoginNeeded: the error is "run: alilogin login --profile P".
	LoginNeeded bool   `json:"login_needed,omitempty"`
	Instance    string `json:"instance,omitempty"`
	// Gates (open): one per route opened.
	Gates []Gate `json:"gates,omitempty"`
	// GatesFile (open): the file whose content changes when the
	// profile's gates die (the hook watches it).
	GatesFile string  `json:"gates_file,omitempty"`
	GatesGen  string  `json:"gates_gen,omitempty"`
	Status    *Status `json:"status,omitempty"`
	// URL (ui): the one-time URL that signs the browser in to the web
	// UI (ui.go).
	URL string `json:"url,omitempty"`
	// Window (elevate, elevated, end): the attended window.
	Window *WindowStatus `json:"window,omitempty"`
}

// Gate is a route's address and a gate for it.
type Gate struct {
	Server Kind   `json:"server"`
	Addr   string `json:"addr"` // http://127.0.0.1:PORT
	Gate   string `json:"gate"`
}

// Status is what `agent status` shows.
type Status struct {
	Instance string          `json:"instance"`
	PID      int             `json:"pid"`
	Started  time.Time       `json:"started"`
	Dir      string          `json:"dir"`
	Routes   map[Kind]string `json:"routes"`
	Memory   string          `json:"memory"`
	Profiles []ProfileStatus `json:"profiles"`
	// UISessions are the live browser sessions of the web UIs.
	UISessions []UISessionStatus `json:"ui_sessions,omitempty"`
	Extra      map[string]string `json:"extra,omitempty"`
}

// ProfileStatus is one opened profile.
type ProfileStatus struct {
	Name      string          `json:"name"`
	Servers   map[Kind]string `json:"servers"`
	Gates     int             `json:"gates_issued"`
	Requests  int64           `json:"requests"`
	Errors    int64           `json:"errors"`
	LastError string          `json:"last_error,omitempty"`
	// Window is the open attended window, nil when none.
	Window *WindowStatus `json:"window,omitempty"`
}

// UISessionStatus is one browser session of a web UI (`alilogin ui`):
// what it is for and how it is used, never its host label nor its cookie.
type UISessionStatus struct {
	Server  Kind      `json:"server"`
	Profile string    `json:"profile"`
	Started time.Time `json:"started"`
	// Entered: the browser came to the session's host name and got its
	// cookie.
	Entered  bool      `json:"entered"`
	LastUse  time.Time `json:"last_use,omitzero"`
	Requests int64     `json:"requests"`
}

// ErrNotRunning: no agent answers on the socket.
var ErrNotRunning = errors.New("the alilogin agent is not running")

// Call sends req to the agent of dir and returns its answer. A missing
// or dead socket is ErrNotRunning (wrapped).
func Call(ctx context.Context, dir string, req Request) (*Answer, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", filepath.Join(dir, SocketName))
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrNotRunning, err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	// A listener of our uid only; the privileged tokens of "elevate" to
	// the agent's executable only (handover.go).
	if err := checkAgentPeer(c, req.Op == "elevate"); err != nil {
		return nil, err
	}
	if err := json.NewEncoder(c).Encode(req); err != nil {
		if dying(err) {
			return nil, fmt.Errorf("%w (its socket closed before it read the request: %v)", ErrNotRunning, err)
		}
		return nil, fmt.Errorf("could not ask the alilogin agent: %w", err)
	}
	var a Answer
	if err := json.NewDecoder(bufio.NewReader(io.LimitReader(c, maxControl))).Decode(&a); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("could not read the alilogin agent's answer: %w", ctx.Err())
		}
		if dying(err) {
			return nil, fmt.Errorf("%w (its socket closed before it read the request: %v)", ErrNotRunning, err)
		}
		return nil, fmt.Errorf("could not read the alilogin agent's answer: %w", err)
	}
	return &a, nil
}

// CallRunning sends req to the user's agent if one runs, and
// ErrNotRunning when none does: no agent directory (none is made) or no
// agent at its socket.
func CallRunning(ctx context.Context, getenv func(string) string, req Request) (*Answer, error) {
	dir, err := ExistingDir(getenv, os.Getuid())
	if err != nil {
		return nil, err
	}
	return Call(ctx, dir, req)
}

// Sync tells the user's agent, if one runs, that a logout happened: it
// forgets at once the tokens and every gate of each profile no longer
// logged in. (It also notices by itself, through the stored login's
// generation, at the next request, on Linux.) No agent is no error.
func Sync(ctx context.Context, getenv func(string) string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err := CallRunning(ctx, getenv, Request{Op: "sync"})
	if errors.Is(err, ErrNotRunning) {
		return nil
	}
	return err
}

// maxControl bounds a control message (an environment is a few KiB).
const maxControl = 4 << 20

// dying reports whether err is the reset of a connection the agent never
// read: the kernel queued it on the listening socket of an agent that was
// ending (killed) and reset it when the socket closed with the process. A
// running agent reads every request before it answers or closes
// (controlserver.go), so it is no agent to wait for.
func dying(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// StopWait bounds how long `agent stop` waits for the agent to end once
// it answered: it still closes its routes (up to 2 s for requests in
// flight) and ends an attended window (its revocations, up to 30 s).
const StopWait = 40 * time.Second

// WaitEnded waits until no agent holds dir's lock, polling, or until ctx
// ends (ctx's error). An agent answers "stop" before it has ended; a
// start that comes before its end finds it running (ErrRunning).
func WaitEnded(ctx context.Context, dir string) error {
	lock, err := filelock.Acquire(ctx, filepath.Join(dir, lockName), StopWait, 20*time.Millisecond, nil)
	if errors.Is(err, filelock.ErrTimeout) {
		return fmt.Errorf("the agent still runs %s after it was asked to stop", StopWait)
	}
	if err != nil {
		return err
	}
	return lock.Release()
}
