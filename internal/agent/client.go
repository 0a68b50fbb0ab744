package agent

import (
	"context"
	"net"
	"net/http"

	"github.com/alisw/alilogin/internal/peercred"
)

type connKey struct{}

// connContext records each connection for the peer checks
// (peercred.ConnContext) and for the audit log's client lookup.
func connContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(peercred.ConnContext(ctx, c), connKey{}, c)
}

// clientOf returns the audit log's lookup of the process at the other
// end of r's connection, run off the request path; nil where there is
// none.
func clientOf(r *http.Request) func() (int, string) {
	c, ok := r.Context().Value(connKey{}).(net.Conn)
	if !ok {
		return nil
	}
	local, remote := c.LocalAddr(), c.RemoteAddr()
	return func() (int, string) {
		pid, exe, err := peercred.Process(local, remote)
		if err != nil {
			return 0, ""
		}
		return pid, exe
	}
}
