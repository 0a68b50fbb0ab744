package leader

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
)

// Defaults.
const (
	DefaultKey       = "alilogin/broker/leader"
	DefaultTTL       = 10 * time.Second // Consul's minimum session TTL
	DefaultLockDelay = time.Second
)

// Elector campaigns for the lock and runs the leader's work while it holds
// it. The zero value is not usable; fill Consul and Identity at least.
type Elector struct {
	Consul    *apiclient.Client // with a token that may write the key and sessions
	Key       string            // KV key of the lock; DefaultKey if empty
	Identity  string            // this instance, e.g. host:port or the allocation id
	TTL       time.Duration     // session TTL; DefaultTTL if zero
	LockDelay time.Duration     // session lock-delay; DefaultLockDelay if zero
	Log       *slog.Logger      // nil: discard
	// OnChange, if set, is called with true when this instance becomes the
	// leader and with false when it stops being it.
	OnChange func(leading bool)
	// Now is the clock (the time written in the lock); nil: time.Now.
	Now func() time.Time
	// CheckTTL is the TTL of the liveness check the session is bound to
	// (alive.go); DefaultCheckTTL if zero, no check if negative. If the
	// check cannot be registered (ACL), the session falls back to its TTL.
	CheckTTL time.Duration

	leading atomic.Bool
}

// Leading reports whether this instance holds the lock now.
func (e *Elector) Leading() bool { return e.leading.Load() }

func (e *Elector) key() string {
	if e.Key == "" {
		return DefaultKey
	}
	return e.Key
}

func (e *Elector) ttl() time.Duration {
	if e.TTL <= 0 {
		return DefaultTTL
	}
	return e.TTL
}

func (e *Elector) log() *slog.Logger {
	if e.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Log
}

// Holder is the value stored in the lock key: who leads.
type Holder struct {
	Identity string    `json:"identity"`
	Since    time.Time `json:"since"`
}

// Run campaigns until ctx is done. Each time this instance wins the lock,
// lead runs with a context that is cancelled when the lock is lost or ctx is
// done; Run waits for lead to return before it releases the lock, so two
// leaders never work at once. Errors talking to Consul are logged and
// retried; Run returns nil when ctx is done.
func (e *Elector) Run(ctx context.Context, lead func(ctx context.Context)) error {
	if e.Consul == nil {
		return errors.New("leader election needs a Consul client")
	}
	backoff := time.Second
	for ctx.Err() == nil {
		err := e.term(ctx, lead)
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			e.log().Warn("leader election: retrying", "err", err, "in", backoff)
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 15*time.Second)
			continue
		}
		backoff = time.Second
	}
	return nil
}

// term is one session's life: create it, campaign, lead, release.
func (e *Elector) term(ctx context.Context, lead func(ctx context.Context)) error {
	alive, err := e.registerAlive(ctx)
	if err != nil {
		e.log().Warn("no liveness check: a dead leader is replaced only when its session TTL runs out (up to 2 x TTL)", "err", err)
	}
	id, err := e.createSession(ctx, alive)
	if err != nil {
		e.cleanup(ctx, "", alive)
		return err
	}
	defer e.cleanup(ctx, id, alive)

	sessCtx, sessCancel := context.WithCancelCause(ctx)
	defer sessCancel(nil)
	var renewWG sync.WaitGroup
	renewWG.Add(1)
	go func() {
		defer renewWG.Done()
		e.renew(sessCtx, sessCancel, id)
	}()
	if alive != nil {
		renewWG.Add(1)
		go func() {
			defer renewWG.Done()
			e.keepAlive(sessCtx, sessCancel, alive)
		}()
	}
	defer renewWG.Wait()
	defer sessCancel(nil)

	index := uint64(0)
	for sessCtx.Err() == nil {
		ok, err := e.acquire(sessCtx, id)
		if err != nil {
			return err
		}
		e.log().Debug("lock acquire", "acquired", ok, "session", id)
		if ok {
			e.lead(sessCtx, id, lead)
			if ctx.Err() == nil && context.Cause(sessCtx) == nil {
				continue
			}
			break
		}
		// Someone else holds it: wait for a change of the key.
		index, err = e.waitFree(sessCtx, index)
		if errors.Is(err, errFree) {
			// Free, but acquire failed: Consul's lock-delay after an
			// invalidated session. Poll until it ends.
			index, err = 0, nil
		}
		if err != nil && sessCtx.Err() == nil {
			return err
		}
	}
	if c := context.Cause(sessCtx); c != nil && !errors.Is(c, context.Canceled) {
		return c
	}
	return nil
}

// cleanup destroys the session and removes the liveness check, even after
// ctx is done.
func (e *Elector) cleanup(ctx context.Context, id string, alive *aliveCheck) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if id != "" {
		if err := e.Consul.Do(cctx, http.MethodPut, "/v1/session/destroy/"+id, nil, nil); err != nil {
			e.log().Warn("could not destroy the Consul session", "err", err)
		}
	}
	e.deregisterAlive(cctx, alive)
}

func (e *Elector) createSession(ctx context.Context, alive *aliveCheck) (string, error) {
	body := map[string]any{
		"Name":      "broker leader " + e.Identity,
		"TTL":       e.ttl().String(),
		"Behavior":  "release",
		"LockDelay": lockDelay(e.LockDelay).String(),
		// Not bound to the node's health (serfHealth): see doc.go.
		"NodeChecks": []string{},
		"Checks":     []string{},
	}
	if alive != nil {
		body["ServiceChecks"] = []map[string]string{{"ID": alive.checkID}}
	}
	var out struct{ ID string }
	if err := e.Consul.Do(ctx, http.MethodPut, "/v1/session/create", body, &out); err != nil {
		return "", fmt.Errorf("could not create a Consul session: %w", err)
	}
	if out.ID == "" {
		return "", errors.New("could not create a Consul session: no id in the answer")
	}
	return out.ID, nil
}

func lockDelay(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultLockDelay
	}
	return d
}

// renew keeps the session alive until ctx is done; on failure it cancels
// the session context with the cause.
func (e *Elector) renew(ctx context.Context, cancel context.CancelCauseFunc, id string) {
	t := time.NewTicker(e.ttl() / 3)
	defer t.Stop()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := e.Consul.Do(ctx, http.MethodPut, "/v1/session/renew/"+id, nil, nil)
		switch {
		case err == nil:
			failures = 0
		case apiclient.StatusOf(err) == http.StatusNotFound:
			cancel(fmt.Errorf("consul session %s expired", id))
			return
		default:
			failures++
			// Two missed renewals leave less than a third of the TTL:
			// give up leading before Consul gives the lock away.
			if failures >= 2 {
				cancel(fmt.Errorf("could not renew the Consul session: %w", err))
				return
			}
		}
	}
}

func (e *Elector) acquire(ctx context.Context, id string) (bool, error) {
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	val, _ := json.Marshal(Holder{Identity: e.Identity, Since: now().UTC()})
	var ok bool
	path := "/v1/kv/" + e.key() + "?acquire=" + url.QueryEscape(id)
	if err := e.Consul.Do(ctx, http.MethodPut, path, json.RawMessage(val), &ok); err != nil {
		return false, fmt.Errorf("could not acquire the leader lock %s: %w", e.key(), err)
	}
	return ok, nil
}

// lead runs the leader's work while the lock is ours.
func (e *Elector) lead(ctx context.Context, id string, lead func(ctx context.Context)) {
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	e.setLeading(true)
	e.log().Info("became the leader", "key", e.key(), "identity", e.Identity)
	done := make(chan struct{})
	go func() {
		defer close(done)
		lead(lctx)
	}()
	// Watch the key: an operator may delete it, or the session may be
	// invalidated under us.
	go func() {
		index := uint64(0)
		for lctx.Err() == nil {
			kv, idx, err := e.get(lctx, index)
			if lctx.Err() != nil {
				return
			}
			if err != nil {
				select {
				case <-lctx.Done():
				case <-time.After(time.Second):
				}
				continue
			}
			if kv == nil || kv.Session != id {
				e.log().Warn("lost the leader lock", "key", e.key())
				cancel()
				return
			}
			index = idx
		}
	}()
	<-done
	cancel()
	e.setLeading(false)
	// Release so that a follower takes over at once (no lock-delay on
	// release).
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer rcancel()
	var ok bool
	if err := e.Consul.Do(rctx, http.MethodPut, "/v1/kv/"+e.key()+"?release="+url.QueryEscape(id), nil, &ok); err != nil {
		e.log().Warn("could not release the leader lock", "err", err)
	}
	e.log().Info("stopped leading", "key", e.key())
}

func (e *Elector) setLeading(v bool) {
	if e.leading.Swap(v) != v && e.OnChange != nil {
		e.OnChange(v)
	}
}

type kvPair struct {
	Session     string
	Value       []byte
	ModifyIndex uint64
}

// get reads the key, blocking until it changes after index (when > 0).
func (e *Elector) get(ctx context.Context, index uint64) (*kvPair, uint64, error) {
	path := "/v1/kv/" + e.key()
	if index > 0 {
		path += "?index=" + strconv.FormatUint(index, 10) + "&wait=" + e.ttl().String()
	}
	var out []kvPair
	h, err := e.Consul.DoHeader(ctx, http.MethodGet, path, nil, &out)
	newIndex := index
	if h != nil {
		if v, perr := strconv.ParseUint(h.Get("X-Consul-Index"), 10, 64); perr == nil {
			newIndex = v
		}
	}
	if apiclient.StatusOf(err) == http.StatusNotFound {
		return nil, newIndex, nil
	}
	if err != nil {
		return nil, index, err
	}
	if len(out) == 0 {
		return nil, newIndex, nil
	}
	return &out[0], newIndex, nil
}

// errFree says the key is free: try to acquire at once, and do not block
// on the key next time.
var errFree = errors.New("lock free")

// waitFree blocks until the key changes after index or the wait ends. When
// the key is free but acquire failed, Consul's lock-delay is running: wait a
// moment rather than for the next change.
func (e *Elector) waitFree(ctx context.Context, index uint64) (uint64, error) {
	kv, idx, err := e.get(ctx, index)
	if err != nil {
		return index, fmt.Errorf("could not watch the leader lock %s: %w", e.key(), err)
	}
	e.log().Debug("lock watch", "index", idx, "free", kv == nil || kv.Session == "")
	if kv == nil || kv.Session == "" {
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
		return idx, errFree
	}
	return idx, nil
}

// Current returns who holds the lock, if anyone (for status pages).
func Current(ctx context.Context, consul *apiclient.Client, key string) (*Holder, error) {
	e := &Elector{Consul: consul, Key: key}
	kv, _, err := e.get(ctx, 0)
	if err != nil {
		return nil, err
	}
	if kv == nil || kv.Session == "" {
		return nil, nil
	}
	var h Holder
	if err := json.Unmarshal(kv.Value, &h); err != nil {
		return nil, fmt.Errorf("could not decode the leader lock value: %w", err)
	}
	return &h, nil
}
