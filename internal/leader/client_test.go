package leader

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/secret"
)

// consul/api's Lock takes no context: its blocking reads of the key must
// end when the session's context does (a failed check pass, a shutdown),
// not when Consul's wait runs out. Its calls carry the token in the
// header, never in the URL.
func TestLockClientCallsEndWithTheirContext(t *testing.T) {
	got := make(chan *http.Request, 1)
	end := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r
		select { // a blocking query that Consul would hold for minutes
		case <-r.Context().Done():
		case <-end:
		}
	}))
	defer srv.Close()
	defer close(end)
	cl, err := apiclient.For(apiclient.Consul, srv.URL, apiclient.TLS{})
	if err != nil {
		t.Fatal(err)
	}
	e := &Elector{Consul: cl.WithToken(secret.New("consul-token"))}
	ctx, cancel := context.WithCancel(context.Background())
	c, err := e.lockClient(ctx)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := c.KV().Get("alilogin/broker/lock", nil)
		done <- err
	}()
	r := <-got
	if r.Header.Get("X-Consul-Token") != "consul-token" || strings.Contains(r.URL.String(), "consul-token") {
		t.Errorf("token header %q, URL %s: want the token in the header only", r.Header.Get("X-Consul-Token"), r.URL)
	}
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Error("the read ended without an error when its context did")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the read did not end with its context")
	}
}
