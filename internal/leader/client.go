package leader

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/hashicorp/consul/api"
)

// lockClient is a consul/api client over the Elector's Consul client: the
// same address, token, TLS material and redirect policy (its transport),
// with no overall timeout (a lock's watch is a blocking query of up to 5
// minutes). Every request it makes ends when ctx is done: consul/api's Lock
// takes no context.
func (e *Elector) lockClient(ctx context.Context) (*api.Client, error) {
	hc := &http.Client{
		Transport:     boundTransport{base: e.Consul.HTTP.Transport, ctx: ctx},
		CheckRedirect: e.Consul.HTTP.CheckRedirect,
	}
	c, err := api.NewClient(&api.Config{Address: e.Consul.Addr, Token: e.Consul.Token.Reveal(), HttpClient: hc})
	if err != nil {
		return nil, fmt.Errorf("could not make the Consul lock client: %w", err)
	}
	return c, nil
}

// boundTransport ends each request when ctx is done.
type boundTransport struct {
	base http.RoundTripper
	ctx  context.Context
}

func (b boundTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(r.Context())
	stop := context.AfterFunc(b.ctx, cancel)
	resp, err := b.base.RoundTrip(r.WithContext(ctx))
	if err != nil {
		stop()
		cancel()
		return nil, err
	}
	resp.Body = &endBody{ReadCloser: resp.Body, end: func() { stop(); cancel() }}
	return resp, nil
}

type endBody struct {
	io.ReadCloser
	end func()
}

func (b *endBody) Close() error {
	err := b.ReadCloser.Close()
	b.end()
	return err
}
