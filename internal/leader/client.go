package leader

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"

	"github.com/hashicorp/consul/api"

	"github.com/alisw/alilogin/internal/secret"
)

// lockClient is a consul/api client over the Elector's Consul client: the
// same address, token, TLS material and redirect policy (its transport),
// with no overall timeout (a lock's watch is a blocking query of up to 5
// minutes). Every request it makes ends when ctx is done: consul/api's Lock
// takes no context.
//
// It reads nothing of the process's environment. consul/api's NewClient
// always starts from DefaultConfig, which reads CONSUL_HTTP_TOKEN_FILE (and
// sends that file's token when the configured one equals
// CONSUL_HTTP_TOKEN), CONSUL_NAMESPACE, CONSUL_PARTITION and
// CONSUL_HTTP_SSL (https for an http:// address); there is no way to build
// an api.Client without it. So the config names the scheme and a token
// that cannot equal the environment's (the file is then not read), and
// the transport (boundTransport) sends the broker's own token, or none for
// the leased token's transport to add, and drops any namespace, partition
// or datacenter: the lock is where the broker's session is.
func (e *Elector) lockClient(ctx context.Context) (*api.Client, error) {
	u, err := url.Parse(e.Consul.Addr)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("could not make the Consul lock client: invalid address %q", e.Consul.Addr)
	}
	hc := &http.Client{
		Transport:     boundTransport{base: e.Consul.HTTP.Transport, ctx: ctx, header: e.Consul.TokenHeader, token: e.Consul.Token, scheme: u.Scheme},
		CheckRedirect: e.Consul.HTTP.CheckRedirect,
	}
	c, err := api.NewClient(&api.Config{Address: e.Consul.Addr, Scheme: u.Scheme, Token: placeholderToken(), HttpClient: hc})
	if err != nil {
		return nil, fmt.Errorf("could not make the Consul lock client: %w", err)
	}
	return c, nil
}

// placeholderToken is the token the lock's api.Config names: never sent
// (boundTransport replaces it), and never equal to CONSUL_HTTP_TOKEN, so
// that NewClient reads no CONSUL_HTTP_TOKEN_FILE.
func placeholderToken() string {
	t := "alilogin-lock-client"
	for t == os.Getenv(api.HTTPTokenEnvName) {
		t += "-"
	}
	return t
}

// boundTransport ends each request when ctx is done, and sends it with the
// broker's token (header) and none of consul/api's namespace, partition or
// datacenter parameters.
type boundTransport struct {
	base   http.RoundTripper
	ctx    context.Context
	header string
	token  secret.String
	scheme string
}

func (b boundTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme != b.scheme {
		return nil, fmt.Errorf("could not send a request of the Consul lock over %s: the broker's Consul address is %s", r.URL.Scheme, b.scheme)
	}
	ctx, cancel := context.WithCancel(r.Context())
	stop := context.AfterFunc(b.ctx, cancel)
	r = r.Clone(ctx)
	q := r.URL.Query()
	if q.Has("ns") || q.Has("partition") || q.Has("dc") {
		q.Del("ns")
		q.Del("partition")
		q.Del("dc")
		r.URL.RawQuery = q.Encode()
	}
	r.Header.Del("Authorization")  // CONSUL_HTTP_AUTH, were it ever used
	r.Header.Del("X-Consul-Token") // the placeholder
	if b.token.Empty() {
		r.Header.Del(b.header)
	} else {
		r.Header.Set(b.header, b.token.Reveal())
	}
	resp, err := b.base.RoundTrip(r)
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
