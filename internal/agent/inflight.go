package agent

import (
	"context"
	"sync"
)

// inflight are the requests being served under something that can end
// (a profile, an attended window, a web UI session): ending it cancels
// each one's context. The owner's mutex guards it.
type inflight map[*context.CancelFunc]struct{}

// trackLocked gives a request a context that cancelAll cancels, and the
// function that forgets it (under mu) once served; ok false, and the
// context cancelled, when the owner has ended. mu is held.
func (f *inflight) trackLocked(ctx context.Context, mu *sync.Mutex, ended bool) (context.Context, func(), bool) {
	ctx, cancel := context.WithCancel(ctx)
	if ended {
		cancel()
		return ctx, func() {}, false
	}
	if *f == nil {
		*f = inflight{}
	}
	key := &cancel
	(*f)[key] = struct{}{}
	return ctx, func() {
		mu.Lock()
		delete(*f, key)
		mu.Unlock()
		cancel()
	}, true
}

// cancelAll cancels every request tracked and forgets them. The owner's
// mutex is held.
func (f *inflight) cancelAll() {
	for c := range *f {
		(*c)()
	}
	*f = nil
}
