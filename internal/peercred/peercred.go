package peercred

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
)

// ErrUnsupported is Lookup's error where the system gives no way to look
// the owner of a connection up (everything but Linux).
var ErrUnsupported = errors.New("the owner of a loopback connection cannot be looked up on this system")

// OtherUserError is OnlyUser's refusal of a connection that another user
// owns.
type OtherUserError struct{ UID uint32 }

func (e *OtherUserError) Error() string {
	return fmt.Sprintf("the connection belongs to another user (uid %d)", e.UID)
}

// Lookup returns the uid that owns the client end of c, a TCP connection
// this process accepted on a loopback address. Any doubt is an error.
func Lookup(c net.Conn) (uint32, error) {
	local, remote, err := loopbackEnds(c)
	if err != nil {
		return 0, err
	}
	return lookup(local, remote)
}

// loopbackEnds returns c's two addresses, unmapped, when c is TCP on
// loopback at both ends.
func loopbackEnds(c net.Conn) (local, remote netip.AddrPort, err error) {
	la, lok := c.LocalAddr().(*net.TCPAddr)
	ra, rok := c.RemoteAddr().(*net.TCPAddr)
	if !lok || !rok {
		return local, remote, fmt.Errorf("could not look up the owner of a %s connection: not TCP", c.LocalAddr().Network())
	}
	local, remote = unmap(la.AddrPort()), unmap(ra.AddrPort())
	if !local.Addr().IsLoopback() || !remote.Addr().IsLoopback() {
		return local, remote, fmt.Errorf("could not look up the owner of the connection from %s to %s: not on loopback", remote, local)
	}
	return local, remote, nil
}

func unmap(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap().WithZone(""), a.Port())
}

type ctxKey struct{}

// peer is the lazily looked-up owner of one connection.
type peer struct {
	once sync.Once
	conn net.Conn
	uid  uint32
	err  error
}

func (p *peer) get() (uint32, error) {
	p.once.Do(func() { p.uid, p.err = Lookup(p.conn) })
	return p.uid, p.err
}

// ConnContext is for http.Server's ConnContext: it keeps c so that
// PeerUID (and OnlyUser) look its owner up, once per connection, when its
// first request arrives, not in the server's accept loop.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, ctxKey{}, &peer{conn: c})
}

// PeerUID returns the uid owning the client end of r's connection. The
// server must have ConnContext as its ConnContext; else it is an error.
func PeerUID(r *http.Request) (uint32, error) {
	p, ok := r.Context().Value(ctxKey{}).(*peer)
	if !ok {
		return 0, errors.New("could not look up the owner of the connection: the server does not record its connections (peercred.ConnContext)")
	}
	return p.get()
}

// OnlyUser serves next only to requests on a connection owned by uid.
// Every other request goes to refuse with the reason: an *OtherUserError,
// or the error of a lookup that failed (fail closed). Where Lookup is not
// supported every request is refused; callers decide before wrapping.
func OnlyUser(uid uint32, next http.Handler, refuse func(w http.ResponseWriter, r *http.Request, err error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, err := PeerUID(r)
		if err == nil && got != uid {
			err = &OtherUserError{UID: got}
		}
		if err != nil {
			refuse(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}
