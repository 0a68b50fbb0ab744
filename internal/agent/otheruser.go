package agent

import (
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/alisw/alilogin/internal/peercred"
)

// Another local user may connect to the routes' loopback ports: each
// such connection is answered 403 and closed, at most
// maxUncheckedConns connections of a route wait unchecked at a time
// (accepted, their owner not yet found to be the user), and the audit
// log gets at most otherUserLines short lines a minute about them, so
// that another user can neither hold the agent's connections nor push
// the user's own history out of the audit log.

// maxUncheckedConns caps a route's connections whose owner has not been
// checked yet: those waiting for their first request and those being
// refused. Beyond it a new connection is closed at once. The user's own
// connections leave the count with their first request.
var maxUncheckedConns = 64

// otherUserLines is how many refusals of other users' connections the
// audit log records a minute; the rest are counted in the next one.
const otherUserLines = 10

// unchecked counts one route's unchecked connections.
type unchecked struct {
	uid uint32 // the user
	mu  sync.Mutex
	m   map[net.Conn]struct{}
}

// connState is the route server's ConnState: a new connection over the
// cap is looked up at once (in the accept loop: only while the cap is
// reached) and closed unless it is the user's (a burst of the user's own,
// 500 blocking queries opened together, passes); a closed or hijacked
// one leaves the count.
func (u *unchecked) connState(c net.Conn, s http.ConnState) {
	u.mu.Lock()
	defer u.mu.Unlock()
	switch s {
	case http.StateNew:
		if len(u.m) >= maxUncheckedConns {
			if uid, err := peercred.Lookup(c); err != nil || uid != u.uid {
				_ = c.Close()
			}
			return
		}
		if u.m == nil {
			u.m = map[net.Conn]struct{}{}
		}
		u.m[c] = struct{}{}
	case http.StateClosed, http.StateHijacked:
		delete(u.m, c)
	}
}

// passed takes r's connection out of the count: its owner is the user.
func (u *unchecked) passed(r *http.Request) {
	c, ok := r.Context().Value(connKey{}).(*connClient)
	if !ok {
		return
	}
	u.mu.Lock()
	delete(u.m, c.conn)
	u.mu.Unlock()
}

// onlyUser serves next to the user's own connections only: another
// user's request (or one whose owner cannot be found: fail closed) is
// answered 403 and its connection closed.
func (a *Agent) onlyUser(k Kind, u *unchecked, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, err := peercred.PeerUID(r)
		if err == nil && got != uint32(a.o.UID) {
			err = &peercred.OtherUserError{UID: got}
		}
		if err != nil {
			a.refusedPeer(k, r, err)
			w.Header().Set("Connection", "close")
			http.Error(w, "refused: this alilogin agent serves its own user only", http.StatusForbidden)
			return
		}
		u.passed(r)
		next.ServeHTTP(w, r)
	})
}

// peerLog rate-limits the audit lines about other users' connections.
type peerLog struct {
	mu         sync.Mutex
	window     time.Time
	lines      int
	suppressed int64
}

// refusedPeer logs the refusal of another user's request: one short line
// (the route, the uid, the method and the path cut short), at most
// otherUserLines a minute.
func (a *Agent) refusedPeer(k Kind, r *http.Request, err error) {
	now := a.now()
	a.peers.mu.Lock()
	if now.Sub(a.peers.window) >= time.Minute || now.Before(a.peers.window) {
		a.peers.window, a.peers.lines = now, 0
	}
	if a.peers.lines >= otherUserLines {
		a.peers.suppressed++
		a.peers.mu.Unlock()
		return
	}
	a.peers.lines++
	n := a.peers.suppressed
	a.peers.suppressed = 0
	a.peers.mu.Unlock()
	ev := Event{Time: now, Server: k, Method: r.Method, Path: cut(r.URL.Path, otherUserPath),
		Status: http.StatusForbidden, Refused: "another user's connection", Suppressed: n}
	var ou *peercred.OtherUserError
	if errors.As(err, &ou) {
		ev.UID = int64(ou.UID)
	} else {
		ev.Refused = "a connection whose owner could not be found"
	}
	a.audit.log(ev)
}

// otherUserPath is how much of another user's path the audit log keeps.
const otherUserPath = 64
