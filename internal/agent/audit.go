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
	// wake cuts the linger short when the queue is half full.
	wake chan struct{}
}

// auditQueue is how many events wait for the writer at most; beyond,
// they are counted as dropped.
const auditQueue = 4096

// auditLinger is how long the writer waits for more lines after one (an
// agent stopped by a signal writes what is queued; one killed loses
// what is not written yet).
const auditLinger = 20 * time.Millisecond

func newAudit(path string, stderr io.Writer) *audit {
	a := &audit{path: path, q: make(chan Event, auditQueue), wake: make(chan struct{}, 1), done: make(chan struct{}), stderr: stderr,
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
		if len(a.q) >= auditQueue/2 {
			// A burst: the writer stops lingering and drains.
			select {
			case a.wake <- struct{}{}:
			default:
			}
		}
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
	l := &auditFile{path: a.path, stderr: a.stderr}
	l.open()
	defer l.close()
	for {
		e, ok := <-a.q
		if !ok {
			return
		}
		// The events of a while are written together: a request queues
		// its event without waking this goroutine (it sleeps, not
		// waiting on the queue), and the log costs one write for many.
		select {
		case <-time.After(a.linger):
		case <-a.wake:
		case <-a.closing:
		}
		for more := true; more; {
			if b := a.line(e); b != nil {
				l.add(b)
			}
			select {
			case e, more = <-a.q:
			default:
				more = false
			}
		}
		l.flush()
	}
}

// line is e's line (after one that counts the events dropped since the
// last line, if any), or nil when it cannot be written.
func (a *audit) line(e Event) []byte {
	if e.client != nil {
		e.PID, e.Exe = e.client()
	}
	e.capped()
	b, err := json.Marshal(e)
	if err != nil {
		return nil
	}
	if n := a.dropped.Swap(0); n > 0 {
		b2, _ := json.Marshal(map[string]any{"time": e.Time, "dropped": n})
		b = append(append(b2, '\n'), b...)
	}
	return append(b, '\n')
}

// auditFile is the log the writer appends to: the open file (nil when
// it could not be opened: the next line tries again), its size, for the
// rotation, and the lines not written yet.
type auditFile struct {
	path   string
	stderr io.Writer
	f      *os.File
	size   int64
	buf    []byte
}

func (l *auditFile) open() {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		fmt.Fprintf(l.stderr, "alilogin agent: warning: could not open the audit log: %v\n", err)
		l.f = nil
		return
	}
	_ = f.Chmod(0o600)
	l.f = f
	if fi, err := f.Stat(); err == nil {
		l.size = fi.Size()
	}
}

// add queues line, rotating the log first when the line would take it
// past auditMax.
func (l *auditFile) add(line []byte) {
	if l.f == nil {
		l.open()
		if l.f == nil {
			return
		}
	}
	if l.size+int64(len(l.buf)+len(line)) > auditMax {
		l.flush()
		l.f.Close()
		if err := os.Rename(l.path, l.path+".1"); err != nil {
			fmt.Fprintf(l.stderr, "alilogin agent: warning: could not rotate the audit log: %v\n", err)
		}
		l.size = 0
		l.open()
		if l.f == nil {
			return
		}
	}
	l.buf = append(l.buf, line...)
}

// flush writes the queued lines in one write.
func (l *auditFile) flush() {
	if len(l.buf) == 0 || l.f == nil {
		l.buf = l.buf[:0]
		return
	}
	n, err := l.f.Write(l.buf)
	l.size += int64(n)
	if err != nil {
		fmt.Fprintf(l.stderr, "alilogin agent: warning: could not write the audit log: %v\n", err)
	}
	l.buf = l.buf[:0]
}

func (l *auditFile) close() {
	l.flush()
	if l.f != nil {
		l.f.Close()
	}
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
