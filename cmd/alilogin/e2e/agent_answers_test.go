package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// agentDo sends method path (with body) through route with the gate in
// header, extra headers set, and returns the status, headers and body
// (read for at most d: streams are cut).
func agentDo(t *testing.T, ctx context.Context, route, method, path, header, gate, body string, extra map[string]string, d time.Duration) (int, http.Header, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var rb io.Reader
	if body != "" {
		rb = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, route+path, rb)
	if err != nil {
		t.Fatal(err)
	}
	if header != "" {
		req.Header.Set(header, gate)
	}
	for k, v := range extra {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		return 0, nil, err.Error()
	}
	defer resp.Body.Close()
	var sb strings.Builder
	_, _ = io.Copy(&sb, resp.Body) // ends at d for a stream
	return resp.StatusCode, resp.Header, sb.String()
}

// TestAgentAnswersHoldNoRealToken: the answers of the routes that can
// speak of tokens, through the agent with the profile's gates, on the
// real servers, hold no real token (Vault, Nomad, Consul), refresh token
// or client key: headers and bodies, gzip asked for or not, streams
// (Nomad's event stream, every topic the token may read) read for 3 s.
func TestAgentAnswersHoldNoRealToken(t *testing.T) {
	au, ctx := newAgentUserFor(t, 4*time.Minute)
	g := au.gates(t)
	nomadR, consulR, vaultR := g["NOMAD_ADDR"], "http://"+strings.TrimPrefix(g["CONSUL_HTTP_ADDR"], "http://"), g["VAULT_ADDR"]
	nt, ct, vt := g["NOMAD_TOKEN"], g["CONSUL_HTTP_TOKEN"], g["VAULT_TOKEN"]

	// The Vault token's accessor, for the accessor routes.
	_, _, lb := agentDo(t, ctx, vaultR, "GET", "/v1/auth/token/lookup-self", "X-Vault-Token", vt, "", nil, 10*time.Second)
	var look struct {
		Data struct{ Accessor string } `json:"data"`
	}
	_ = json.Unmarshal([]byte(lb), &look)
	// The Nomad and Consul accessors.
	_, _, nb := agentDo(t, ctx, nomadR, "GET", "/v1/acl/token/self", "X-Nomad-Token", nt, "", nil, 10*time.Second)
	var ns struct{ AccessorID string }
	_ = json.Unmarshal([]byte(nb), &ns)
	_, _, cb := agentDo(t, ctx, consulR, "GET", "/v1/acl/token/self", "X-Consul-Token", ct, "", nil, 10*time.Second)
	var cs struct{ AccessorID string }
	_ = json.Unmarshal([]byte(cb), &cs)

	gz := map[string]string{"Accept-Encoding": "gzip"}
	type probe struct {
		route, method, path, header, gate, body string
		extra                                   map[string]string
	}
	probes := []probe{
		{nomadR, "GET", "/v1/acl/token/self", "X-Nomad-Token", nt, "", gz},
		{nomadR, "GET", "/v1/acl/token/self?pretty=true", "Authorization", "Bearer " + nt, "", nil},
		{nomadR, "GET", "/v1/acl/token/" + ns.AccessorID, "X-Nomad-Token", nt, "", nil},
		{nomadR, "GET", "/v1/acl/tokens", "X-Nomad-Token", nt, "", nil},
		{nomadR, "GET", "/v1/agent/self", "X-Nomad-Token", nt, "", nil},
		{nomadR, "GET", "/v1/event/stream?topic=*", "X-Nomad-Token", nt, "", nil},
		{nomadR, "GET", "/v1/event/stream?topic=ACLToken", "X-Nomad-Token", nt, "", nil},
		{nomadR, "GET", "/v1/nodes?resources=true", "X-Nomad-Token", nt, "", nil},
		{nomadR, "GET", "/v1/operator/keyring/keys", "X-Nomad-Token", nt, "", nil},
		{consulR, "GET", "/v1/acl/token/self", "X-Consul-Token", ct, "", gz},
		{consulR, "GET", "/v1/acl/token/self?token=" + ct, "", "", "", nil},
		{consulR, "GET", "/v1/acl/token/" + cs.AccessorID + "?expanded", "X-Consul-Token", ct, "", nil},
		{consulR, "GET", "/v1/agent/self", "X-Consul-Token", ct, "", gz},
		{consulR, "GET", "/v1/agent/members", "X-Consul-Token", ct, "", nil},
		{consulR, "POST", "/v1/internal/acl/authorize", "X-Consul-Token", ct, `[{"Resource":"operator","Access":"read"}]`, nil},
		{vaultR, "GET", "/v1/auth/token/lookup-self", "X-Vault-Token", vt, "", gz},
		{vaultR, "POST", "/v1/auth/token/renew-self", "X-Vault-Token", vt, `{}`, nil},
		{vaultR, "POST", "/v1/auth/token/lookup-accessor", "X-Vault-Token", vt, `{"accessor":"` + look.Data.Accessor + `"}`, nil},
		{vaultR, "POST", "/v1/sys/wrapping/lookup", "X-Vault-Token", vt, `{"token":"` + vt + `"}`, nil},
		{vaultR, "PUT", "/v1/sys/leases/lookup", "X-Vault-Token", vt, `{"lease_id":"x"}`, nil},
		{vaultR, "GET", "/v1/sys/internal/ui/resultant-acl", "X-Vault-Token", vt, "", nil},
		{vaultR, "POST", "/v1/sys/capabilities-self", "X-Vault-Token", vt, `{"paths":["auth/token/create"]}`, nil},
		{vaultR, "PUT", "/v1/cubbyhole/x", "X-Vault-Token", vt, `{"a":"b"}`, nil},
		{vaultR, "GET", "/v1/cubbyhole/x", "X-Vault-Token", vt, "", nil},
	}
	for _, p := range probes {
		st, h, body := agentDo(t, ctx, p.route, p.method, p.path, p.header, p.gate, p.body, p.extra, 3*time.Second)
		var hs strings.Builder
		for k, v := range h {
			hs.WriteString(k + ": " + strings.Join(v, ",") + "\n")
		}
		what := p.method + " " + p.path
		t.Logf("%s: %d, %d bytes", what, st, len(body))
		au.noSecret(t, what+" (headers)", hs.String())
		au.noSecret(t, what+" (body)", body)
	}
}
