package e2e

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/leader"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/testutil"
)

func managementClient(t *testing.T) *apiclient.Client {
	t.Helper()
	cl, err := apiclient.New("Consul", stack.Consul.Addr, "X-Consul-Token", apiclient.TLS{}, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return cl.WithToken(secret.New(stack.Consul.ManagementToken))
}

// holdAsOlderBroker holds key the way a broker before consul/api's Lock
// did: its own session, the key acquired with flags 0.
func holdAsOlderBroker(t *testing.T, cl *apiclient.Client, key string) string {
	t.Helper()
	id, ok := tryAsOlderBroker(t, cl, key)
	if !ok {
		t.Fatalf("could not hold %s as an older broker", key)
	}
	return id
}

// tryAsOlderBroker makes an older broker's session and tries once to
// acquire key with it, as such a broker does: whether Consul gave it.
func tryAsOlderBroker(t *testing.T, cl *apiclient.Client, key string) (string, bool) {
	t.Helper()
	ctx := context.Background()
	var s struct{ ID string }
	if err := cl.Do(ctx, http.MethodPut, "/v1/session/create", map[string]any{
		"Name": "broker leader old", "TTL": "60s", "Behavior": "release", "LockDelay": "0s",
	}, &s); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cl.Do(context.Background(), http.MethodPut, "/v1/session/destroy/"+s.ID, nil, nil)
		_ = cl.Do(context.Background(), http.MethodDelete, "/v1/kv/"+key, nil, nil)
	})
	var ok bool
	if err := cl.Do(ctx, http.MethodPut, "/v1/kv/"+key+"?acquire="+s.ID, leader.Holder{Identity: "old", Since: time.Now().UTC()}, &ok); err != nil {
		t.Fatalf("could not try %s as an older broker: %v", key, err)
	}
	return s.ID, ok
}

// An older broker (before consul/api's Lock) leads on LegacyKey. A new
// broker started beside it (the rolling update the job spec does by
// default, and the generic "New broker" upgrade step) must not lead as
// well while that lock is held: two leaders reconcile and reap at once.
// operations.md only asks the operator to stop the old job first; nothing
// in the broker keeps it from leading.
func TestNoSecondLeaderWhileAnOlderBrokerHoldsTheLegacyKey(t *testing.T) {
	cl := managementClient(t)
	holdAsOlderBroker(t, cl, leader.LegacyKey)
	var active atomic.Int32
	var overlap atomic.Bool
	p := newProxy(t, stack.Consul.Addr)
	n := start(t, "", "new", p.srv.URL, &active, &overlap) // the default key
	t0 := time.Now()
	for time.Since(t0) < 8*time.Second {
		if n.leading.Load() {
			t.Fatalf("the new broker leads on %s %s after starting while an older broker holds %s: two leaders at once",
				leader.DefaultKey, time.Since(t0).Round(time.Millisecond), leader.LegacyKey)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A leader whose session is destroyed (an operator's `consul session
// destroy`, Consul invalidating it) stops leading at once: consul/api's
// watch of the held key sees the session gone.
func TestLeaderStopsWhenItsSessionIsDestroyed(t *testing.T) {
	cl := managementClient(t)
	key := "test/destroyed-" + time.Now().Format("150405.000000000")
	var active atomic.Int32
	var overlap atomic.Bool
	p := newProxy(t, stack.Consul.Addr)
	a := start(t, key, "a", p.srv.URL, &active, &overlap)
	waitOneLeader(t, 10*time.Second, a)
	var kv []struct{ Session string }
	if err := cl.Do(context.Background(), http.MethodGet, "/v1/kv/"+key, nil, &kv); err != nil || len(kv) != 1 || kv[0].Session == "" {
		t.Fatalf("key %s: %+v, %v", key, kv, err)
	}
	terms := a.terms.Load()
	t0 := time.Now()
	if err := cl.Do(context.Background(), http.MethodPut, "/v1/session/destroy/"+kv[0].Session, nil, nil); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 3*time.Second, "the leader stopped or started a new term", func() bool {
		return !a.leading.Load() || a.terms.Load() > terms
	})
	t.Logf("stopped %s after its session was destroyed", time.Since(t0).Round(time.Millisecond))
}

// The other half of a rolling update: while a new broker leads, an older
// broker (which leads only while it holds LegacyKey) is refused that key,
// because the new leader holds it with its own session; and the key
// names the new leader for the older brokers' status pages.
func TestOlderBrokerIsRefusedTheLegacyKeyWhileANewBrokerLeads(t *testing.T) {
	cl := managementClient(t)
	var active atomic.Int32
	var overlap atomic.Bool
	p := newProxy(t, stack.Consul.Addr)
	n := start(t, "", "new", p.srv.URL, &active, &overlap)
	waitOneLeader(t, 10*time.Second, n)
	if _, ok := tryAsOlderBroker(t, cl, leader.LegacyKey); ok {
		t.Fatalf("an older broker acquired %s while the new broker leads: two leaders at once", leader.LegacyKey)
	}
	h, err := leader.Current(context.Background(), cl, leader.LegacyKey)
	if err != nil || h == nil || h.Identity != "new" {
		t.Errorf("%s names %+v (%v), want the new leader", leader.LegacyKey, h, err)
	}
	if !n.leading.Load() {
		t.Error("the new broker stopped leading")
	}
}

// A new broker waiting for an older one leads once the older one stops
// (its session destroyed: SIGTERM, or Consul invalidating it), without
// a restart.
func TestNewBrokerLeadsOnceTheOlderBrokerStops(t *testing.T) {
	cl := managementClient(t)
	old := holdAsOlderBroker(t, cl, leader.LegacyKey)
	var active atomic.Int32
	var overlap atomic.Bool
	p := newProxy(t, stack.Consul.Addr)
	n := start(t, "", "new", p.srv.URL, &active, &overlap)
	// A blocking read of a key: the new broker waits on LegacyKey (it
	// holds DefaultKey: nobody else campaigns on it).
	testutil.WaitFor(t, 10*time.Second, "the new broker waits for the older one", func() bool { return p.refused.Load() > 0 })
	if n.leading.Load() {
		t.Fatalf("the new broker leads while an older broker holds %s", leader.LegacyKey)
	}
	t0 := time.Now()
	if err := cl.Do(context.Background(), http.MethodPut, "/v1/session/destroy/"+old, nil, nil); err != nil {
		t.Fatal(err)
	}
	waitOneLeader(t, 5*time.Second, n)
	t.Logf("the new broker led %s after the older one stopped", time.Since(t0).Round(time.Millisecond))
}
