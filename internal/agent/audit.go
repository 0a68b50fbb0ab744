package agent

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Event is one line of the audit log: a request that reached a route,
// forwarded or refused. It holds no token, no gate and no query (Path is
// the path alone): what a request asked for, not its secrets.
type Event struct {
	Time    time.Time `json:"time"`
	Profile string    `json:"profile,omitempty"`
	Server  Kind      `json:"server"`
	Method  string    `json:"method"`
	Path    string    `json:"path"`
	Status  int       `json:"status"`
	Bytes   int64     `json:"bytes"`
	// Refused is the agent's reason when it refused the request itself.
	Refused string `json:"refused,omitempty"`
	// Elevated: the request came with an elevated gate (an attended
	// window's privileged token went with it).
	Elevated bool `json:"elevated,omitempty"`
	// The client, where the peer lookup finds it (best effort).
	PID int    `json:"pid,omitempty"`
	Exe string `json:"exe,omitempty"`
	// UID is another user's, whose connection was refused;
	// Suppressed counts the refusals of other users' connections not
	// logged since the last line about one (otheruser.go).
	UID        int64 `json:"uid,omitempty"`
	Suppressed int64 `json:"suppressed,omitempty"`
	// DurationMS is how long the request took.
	DurationMS int64 `json:"duration_ms"`
	// client finds PID and Exe off the request path.
	client func() (int, string) `json:"-"`
}

// auditMax is the size at which the log is rotated: the current file
// becomes audit.log.1 (the one before that is dropped).
const auditMax = 10 << 20

// audit writes Events as JSON lines to a 0600 file, from one goroutine:
// a request only queues its event. When the queue is full, events are
// dropped and counted (the next line written says how many).
type audit struct {
	path    string
	q       chan Event
	dropped atomic.Int64
	done    chan struct{}
	stderr  io.Writer
	once    sync.Once
	mu      sync.RWMutex // closed and the queue's closing
	closed  bool
	// linger is how long the writer waits after an event for more
	// before it writes; closing cuts the wait short.
	linger  time.Duration
	closing chan struct{}
}

// auditLinger is how late a line may reach the log (an agent stopped
// by a signal writes what is queued; one killed loses at most this).
const auditLinger = 20 * time.Millisecond

func newAudit(path string, stderr io.Writer) *audit {
	a := &audit{path: path, q: make(chan Event, 1024), done: make(chan struct{}), stderr: stderr,
		linger: auditLinger, closing: make(chan struct{})}
	go a.run()
	return a
}

func (a *audit) log(e Event) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.closed { // a request that outlived the agent's stop
		a.dropped.Add(1)
		return
	}
	select {
	case a.q <- e:
	default:
		a.dropped.Add(1)
	}
}

// close writes what is queued and stops.
func (a *audit) close() {
	a.once.Do(func() {
		close(a.closing)
		a.mu.Lock()
		a.closed = true
		close(a.q)
		a.mu.Unlock()
	})
	<-a.done
}

func (a *audit) run() {
	defer close(a.done)
	var f *os.File
	var size int64
	open := func() {
		var err error
		f, err = os.OpenFile(a.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			fmt.Fprintf(a.stderr, "alilogin agent: warning: could not open the audit log: %v\n", err)
			f = nil
			return
		}
		_ = f.Chmod(0o600)
		if fi, err := f.Stat(); err == nil {
			size = fi.Size()
		}
	}
	open()
	var buf []byte
	flush := func() {
		if len(buf) == 0 || f == nil {
			buf = buf[:0]
			return
		}
		n, err := f.Write(buf)
		size += int64(n)
		if err != nil {
			fmt.Fprintf(a.stderr, "alilogin agent: warning: could not write the audit log: %v\n", err)
		}
		buf = buf[:0]
	}
	for {
		e, ok := <-a.q
		if !ok {
			break
		}
		// The events of a while are written together: a request queues
		// its event without waking this goroutine (it sleeps, not
		// waiting on the queue), and the log costs one write for many.
		select {
		case <-time.After(a.linger):
		case <-a.closing:
		}
		for more := true; more; {
			a.append(&buf, e, &f, &size, open, flush)
			select {
			case e, more = <-a.q:
			default:
				more = false
			}
		}
		flush()
	}
	flush()
	if f != nil {
		f.Close()
	}
}

// append adds e's line to buf, rotating the log first when the line
// would take it past auditMax.
func (a *audit) append(buf *[]byte, e Event, f **os.File, size *int64, open, flush func()) {
	if e.client != nil {
		e.PID, e.Exe = e.client()
	}
	e.capped()
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	if n := a.dropped.Swap(0); n > 0 {
		b2, _ := json.Marshal(map[string]any{"time": e.Time, "dropped": n})
		b = append(append(b2, '\n'), b...)
	}
	b = append(b, '\n')
	if *f == nil {
		open()
		if *f == nil {
			return
		}
	}
	if *size+int64(len(*buf)+len(b)) > auditMax {
		flush()
		(*f).Close()
		if err := os.Rename(a.path, a.path+".1"); err != nil {
			fmt.Fprintf(a.stderr, "alilogin agent: warning: could not rotate the audit log: %v\n", err)
		}
		*size = 0
		open()
		if *f == nil {
			return
		}
	}
	*buf = append(*buf, b...)
}

// The longest field values the audit log keeps (a path may be as long
// as the header limit, 1 MiB): a line stays short whatever a client
// sends.
const (
	maxLoggedPath  = 1024
	maxLoggedField = 256
)

// capped cuts e's text fields to their bounds.
func (e *Event) capped() {
	e.Path = cut(e.Path, maxLoggedPath)
	e.Profile = cut(e.Profile, maxLoggedField)
	e.Method = cut(e.Method, maxLoggedField)
	e.Refused = cut(e.Refused, maxLoggedField)
	e.Exe = cut(e.Exe, maxLoggedField)
}

// cut is s cut to at most n bytes, marked "..." when cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
