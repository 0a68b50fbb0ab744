package leader

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/alisw/alilogin/internal/apiclient"
)

// Defaults.
const (
	// DefaultKey is the KV key of the lock. consul/api's Lock marks its key
	// with its own flags (api.LockFlagValue) and refuses a key with other
	// flags (api.ErrLockConflict), so it is not LegacyKey, which brokers
	// before consul/api's Lock wrote with flags 0.
	DefaultKey = "alilogin/broker/lock"
	// LegacyKey is the lock key of brokers before consul/api's Lock. A
	// broker on DefaultKey also holds it, with the same session and flags
	// 0 (as those brokers wrote it), before it leads: an older broker,
	// which leads only while it holds LegacyKey, cannot lead beside it,
	// and it does not lead while an older broker holds LegacyKey.
	LegacyKey  = "alilogin/broker/leader"
	DefaultTTL = 10 * time.Second // Consul's minimum session TTL
	// DefaultLockDelay is the session's lock-delay: none. consul/api's
	// Lock waits a fixed 5s (api.DefaultLockRetryTime) after Consul
	// refused it the lock for a lock-delay, which would make a takeover
	// after a crash take 8s; the margin a lock-delay gave is in the
	// liveness check's TTL instead (alive.go).
	DefaultLockDelay = time.Duration(0)
)

// Elector campaigns for the lock and runs the leader's work while it holds
// it. The zero value is not usable; fill Consul and Identity at least.
type Elector struct {
	Consul   *apiclient.Client // with a token that may write the key and sessions
	Key      string            // KV key of the lock; DefaultKey if empty
	Identity string            // this instance, e.g. host:port or the allocation id
	TTL      time.Duration     // session TTL; DefaultTTL if zero
	Log      *slog.Logger      // nil: discard
	// OnChange, if set, is called with true when this instance becomes the
	// leader and with false when it stops being it.
	OnChange func(leading bool)
	// Now is the clock (the time written in the lock); nil: time.Now.
	Now func() time.Time
	// CheckTTL is the TTL of the liveness check the session is bound to
	// (alive.go); DefaultCheckTTL if zero, no check if negative. If the
	// check cannot be registered (ACL), the session falls back to its TTL.
	CheckTTL time.Duration
	// Legacy is a second key held with the same session (flags 0) while
	// leading, so that brokers before consul/api's Lock, which lock it,
	// never lead at the same time; LegacyKey if empty and Key is
	// DefaultKey (or empty), none for another Key.
	Legacy string

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

func (e *Elector) legacy() string {
	if e.Legacy == "" && e.key() == DefaultKey {
		return LegacyKey
	}
	return e.Legacy
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
	// Destroying the session releases the lock (behaviour release) if
	// this instance still holds it.
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

	// The lock's calls (its blocking reads too) end with the session's
	// context: a failed renewal or check pass stops the campaign and the
	// watch of a held lock at once.
	consul, err := e.lockClient(sessCtx)
	if err != nil {
		return err
	}
	for sessCtx.Err() == nil {
		lock, err := consul.LockOpts(&api.LockOptions{
			Key:          e.key(),
			Value:        e.holder(),
			Session:      id,
			LockWaitTime: e.ttl(),
		})
		if err != nil {
			return fmt.Errorf("could not prepare the leader lock %s: %w", e.key(), err)
		}
		lost, err := lock.Lock(sessCtx.Done())
		if sessCtx.Err() != nil {
			break
		}
		if errors.Is(err, api.ErrLockConflict) {
			return fmt.Errorf("could not acquire the leader lock %s: %w: the key is not a consul/api lock (brokers before it used %s, written with flags 0)", e.key(), err, LegacyKey)
		}
		if err != nil {
			return fmt.Errorf("could not acquire the leader lock %s: %w", e.key(), err)
		}
		if err := e.holdBoth(sessCtx, consul, id, lost, lead); err != nil && sessCtx.Err() == nil {
			_ = lock.Unlock()
			return err
		}
		if err := lock.Unlock(); err != nil && sessCtx.Err() == nil {
			e.log().Warn("could not release the leader lock", "err", err)
		}
		e.log().Info("stopped leading", "key", e.key())
	}
	if c := context.Cause(sessCtx); c != nil && !errors.Is(c, context.Canceled) {
		return c
	}
	return nil
}

func (e *Elector) holder() []byte {
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	val, _ := json.Marshal(Holder{Identity: e.Identity, Since: now().UTC()})
	return val
}

// holdBoth leads while this session holds the lock (until lost is closed)
// and the legacy key, if any: it first acquires the legacy key with the
// session, waiting while another session (an older broker) holds it, then
// leads while it keeps both, and releases the legacy key after lead has
// returned.
//
// Why this and not a check of the legacy key: an older broker acquires
// the legacy key without looking at DefaultKey, so a new broker that only
// checked the key (before acquiring DefaultKey, or even while leading)
// could see it free, and the older one acquire it the next moment: two
// leaders until the next check. Holding it makes Consul's acquire the
// arbiter: at any moment at most one session holds the legacy key, an
// older broker leads only while its session holds it, and a new one only
// after its session has acquired it and until its watch of it, or of
// DefaultKey, fails. New brokers take the two keys in the same order
// (DefaultKey first), so two of them never wait for each other.
func (e *Elector) holdBoth(ctx context.Context, consul *api.Client, id string, lost <-chan struct{}, lead func(ctx context.Context)) error {
	legacy := e.legacy()
	if legacy == "" {
		e.lead(ctx, lost, lead)
		return nil
	}
	hctx, hcancel := context.WithCancel(ctx)
	defer hcancel()
	go func() {
		select {
		case <-lost:
			hcancel()
		case <-hctx.Done():
		}
	}()
	held, err := e.acquireLegacy(hctx, consul, id, legacy)
	if err != nil || !held {
		return err
	}
	defer e.releaseLegacy(ctx, id, legacy)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		e.watchLegacy(hctx, hcancel, consul, id, legacy)
	}()
	e.lead(ctx, hctx.Done(), lead)
	hcancel()
	<-watched
	return nil
}

// acquireLegacy acquires key with the session, with flags 0, waiting
// (blocking reads of the key) while another session holds it. It reports
// false when ctx is done first.
func (e *Elector) acquireLegacy(ctx context.Context, consul *api.Client, id, key string) (bool, error) {
	kv := consul.KV()
	index := uint64(0)
	waiting := false
	for ctx.Err() == nil {
		ok, _, err := kv.Acquire(&api.KVPair{Key: key, Value: e.holder(), Session: id}, (&api.WriteOptions{}).WithContext(ctx))
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			return false, fmt.Errorf("could not acquire the legacy leader lock %s: %w", key, err)
		}
		if ok {
			if waiting {
				e.log().Info("the older broker's lock is free: taken", "key", key)
			}
			return true, nil
		}
		pair, meta, err := kv.Get(key, (&api.QueryOptions{WaitIndex: index, WaitTime: e.ttl()}).WithContext(ctx))
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			return false, fmt.Errorf("could not watch the legacy leader lock %s: %w", key, err)
		}
		if pair == nil || pair.Session == "" {
			// Free, but the acquire was refused: the lock-delay of the
			// older broker's invalidated session. Try again shortly.
			index = 0
			select {
			case <-ctx.Done():
			case <-time.After(250 * time.Millisecond):
			}
			continue
		}
		if !waiting {
			var h Holder
			_ = json.Unmarshal(pair.Value, &h)
			e.log().Warn("not leading: an older broker holds the legacy leader lock; waiting for it to stop", "key", key, "holder", h.Identity)
			waiting = true
		}
		index = meta.LastIndex
	}
	return false, nil
}

// watchLegacy cancels leading (cancel) as soon as key is no longer held
// by the session (deleted, released, the session invalidated) or cannot
// be watched.
func (e *Elector) watchLegacy(ctx context.Context, cancel context.CancelFunc, consul *api.Client, id, key string) {
	index := uint64(0)
	for ctx.Err() == nil {
		pair, meta, err := consul.KV().Get(key, (&api.QueryOptions{WaitIndex: index, WaitTime: e.ttl()}).WithContext(ctx))
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			e.log().Warn("could not watch the legacy leader lock: stopping", "key", key, "err", err)
			cancel()
			return
		}
		if pair == nil || pair.Session != id {
			e.log().Warn("lost the legacy leader lock", "key", key)
			cancel()
			return
		}
		if meta.LastIndex < index {
			index = 0
		} else {
			index = meta.LastIndex
		}
	}
}

// releaseLegacy releases key, even after ctx is done (the lock client's
// calls end with the session's context; destroying the session would
// release it too).
func (e *Elector) releaseLegacy(ctx context.Context, id, key string) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var ok bool
	if err := e.Consul.Do(rctx, http.MethodPut, "/v1/kv/"+key+"?release="+url.QueryEscape(id), nil, &ok); err != nil {
		e.log().Warn("could not release the legacy leader lock", "key", key, "err", err)
	}
}

// lead runs the leader's work while the lock is ours: until lost is closed
// (the key was deleted, the session invalidated, the watch failed) or ctx
// is done.
func (e *Elector) lead(ctx context.Context, lost <-chan struct{}, lead func(ctx context.Context)) {
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	e.setLeading(true)
	e.log().Info("became the leader", "key", e.key(), "identity", e.Identity)
	done := make(chan struct{})
	go func() {
		defer close(done)
		lead(lctx)
	}()
	select {
	case <-done:
	case <-lost:
		if ctx.Err() == nil {
			e.log().Warn("lost the leader lock", "key", e.key())
		}
	case <-lctx.Done():
	}
	cancel()
	<-done
	e.setLeading(false)
}

func (e *Elector) setLeading(v bool) {
	if e.leading.Swap(v) != v && e.OnChange != nil {
		e.OnChange(v)
	}
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

// createSession creates the session that holds the lock. consul/api's
// Session.Create cannot make it: it leaves out an empty NodeChecks (Consul
// then binds the session to the node's serfHealth) and a zero lock-delay
// (Consul then uses 15s).
func (e *Elector) createSession(ctx context.Context, alive *aliveCheck) (string, error) {
	body := map[string]any{
		"Name":      "broker leader " + e.Identity,
		"TTL":       e.ttl().String(),
		"Behavior":  "release",
		"LockDelay": DefaultLockDelay.String(),
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

// Current returns who holds the lock, if anyone (for status pages).
func Current(ctx context.Context, consul *apiclient.Client, key string) (*Holder, error) {
	e := &Elector{Consul: consul, Key: key}
	c, err := e.lockClient(ctx)
	if err != nil {
		return nil, err
	}
	kv, _, err := c.KV().Get(e.key(), (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("could not read the leader lock %s: %w", e.key(), err)
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
