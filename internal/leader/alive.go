package leader

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// DefaultCheckTTL is the TTL of the liveness check the session is bound to.
// The check is passed every quarter of it (1s), so a leader that cannot
// pass it stops at most 2s after its last pass (the next pass's time and
// timeout), 2s before Consul can invalidate its session: the margin that
// the session's lock-delay gave before (lock.go, DefaultLockDelay).
const DefaultCheckTTL = 4 * time.Second

// AliveService is the Consul service name under which each campaigning
// instance registers its liveness check (one service instance per term).
const AliveService = "alilogin-broker-lock"

// aliveCheck is a Consul service with a TTL check that the instance keeps
// passing. The session is bound to that check, so that when the process
// dies, Consul invalidates the session CheckTTL later instead of waiting
// for the session TTL (10s at least, enforced at up to 2x). The check sits
// on its own service, not on the node: a critical node check would mark
// every service of the node unhealthy. Consul removes the service of a
// dead instance after a minute (DeregisterCriticalServiceAfter).
type aliveCheck struct {
	serviceID string
	checkID   string
	ttl       time.Duration
}

var unsafeID = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

func (e *Elector) checkTTL() time.Duration {
	if e.CheckTTL == 0 {
		return DefaultCheckTTL
	}
	return e.CheckTTL
}

// registerAlive registers the liveness check; nil when disabled.
func (e *Elector) registerAlive(ctx context.Context) (*aliveCheck, error) {
	ttl := e.checkTTL()
	if ttl < 0 {
		return nil, nil
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	id := AliveService + "-" + strings.Trim(unsafeID.ReplaceAllString(e.Identity, "-"), "-") + "-" + hex.EncodeToString(b)
	a := &aliveCheck{serviceID: id, checkID: id + "-alive", ttl: ttl}
	body := map[string]any{
		"ID":   a.serviceID,
		"Name": AliveService,
		"Meta": map[string]string{"identity": e.Identity, "key": e.key()},
		"Check": map[string]any{
			"CheckID":                        a.checkID,
			"Name":                           "broker alive",
			"TTL":                            ttl.String(),
			"Status":                         "passing",
			"DeregisterCriticalServiceAfter": "1m",
		},
	}
	if err := e.Consul.Do(ctx, http.MethodPut, "/v1/agent/service/register", body, nil); err != nil {
		return nil, fmt.Errorf("could not register the liveness check in Consul: %w", err)
	}
	return a, nil
}

// pass marks the check alive, within a quarter of its TTL.
func (e *Elector) pass(ctx context.Context, a *aliveCheck) error {
	ctx, cancel := context.WithTimeout(ctx, a.ttl/4)
	defer cancel()
	return e.Consul.Do(ctx, http.MethodPut, "/v1/agent/check/pass/"+a.checkID, nil, nil)
}

// keepAlive passes the check every TTL/4 until ctx is done. One failure
// ends leading at once (cancel): the session may be invalidated as soon as
// the check's TTL runs out, so the leader must stop first.
func (e *Elector) keepAlive(ctx context.Context, cancel context.CancelCauseFunc, a *aliveCheck) {
	t := time.NewTicker(a.ttl / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := e.pass(ctx, a); err != nil && ctx.Err() == nil {
			cancel(fmt.Errorf("could not keep the liveness check passing: %w", err))
			return
		}
	}
}

func (e *Elector) deregisterAlive(ctx context.Context, a *aliveCheck) {
	if a == nil {
		return
	}
	if err := e.Consul.Do(ctx, http.MethodPut, "/v1/agent/service/deregister/"+a.serviceID, nil, nil); err != nil {
		e.log().Warn("could not deregister the liveness check", "err", err)
	}
}
