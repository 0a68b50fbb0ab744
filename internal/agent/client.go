package agent

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/alisw/alilogin/internal/peercred"
)

type connKey struct{}

// connClient is the process at the other end of one connection, looked
// up once, in the background, from the connection's first request on
// (while the connection is surely open), for the audit log.
type connClient struct {
	conn net.Conn
	once sync.Once
	done chan struct{}
	pid  int
	exe  string
}

// processScans lets one peercred.Process run at a time: each reads
// every /proc/<pid>/fd of the user (tens of milliseconds of CPU, more on
// a busy host), and a burst of new connections (500 blocking queries)
// would otherwise run hundreds at once, taking the CPU from the requests
// and growing the agent by tens of MiB. A connection that arrives while
// a scan runs gets no client in the audit log (best effort).
var processScans = make(chan struct{}, 1)

func (c *connClient) start() {
	c.once.Do(func() {
		select {
		case processScans <- struct{}{}:
		default:
			close(c.done)
			return
		}
		go func() {
			defer close(c.done)
			defer func() { <-processScans }()
			if pid, exe, err := peercred.Process(c.conn.LocalAddr(), c.conn.RemoteAddr()); err == nil {
				c.pid, c.exe = pid, exe
			}
		}()
	})
}

// connContext records each connection for the peer checks
// (peercred.ConnContext) and for the audit log's client lookup.
func connContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(peercred.ConnContext(ctx, c), connKey{}, &connClient{conn: c, done: make(chan struct{})})
}

// clientLookupWait bounds how long the audit log waits for a lookup.
const clientLookupWait = 5 * time.Second

// clientOf starts the lookup of the process at the other end of r's
// connection and returns how the audit log gets its answer (pid 0 when
// none came); nil where there is no connection to look up.
func clientOf(r *http.Request) func() (int, string) {
	c, ok := r.Context().Value(connKey{}).(*connClient)
	if !ok || !peercred.Supported() {
		return nil
	}
	c.start()
	return func() (int, string) {
		select {
		case <-c.done:
			return c.pid, c.exe
		case <-time.After(clientLookupWait):
			return 0, ""
		}
	}
}
