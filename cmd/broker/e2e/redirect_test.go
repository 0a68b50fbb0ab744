package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/hostile"
)

// TestPlanRefusesRedirectElsewhere: with VAULT_ADDR, NOMAD_ADDR and
// CONSUL_HTTP_ADDR at fronts that redirect (307) to the real servers on
// other ports, `broker plan` fails naming both addresses, and none of its
// admin tokens reaches a real server through a redirect.
func TestPlanRefusesRedirectElsewhere(t *testing.T) {
	setup(t)
	dir := policiesDir(t, nil)
	env := map[string]string{}
	for _, kv := range stack.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	var fwds, fronts []*hostile.Server
	for _, s := range []struct{ addrVar, real string }{
		{"VAULT_ADDR", stack.Vault.Addr}, {"NOMAD_ADDR", stack.Nomad.Addr}, {"CONSUL_HTTP_ADDR", stack.Consul.Addr},
	} {
		fwd, err := hostile.NewForward(s.real)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(fwd.Close)
		front := hostile.NewRedirect(http.StatusTemporaryRedirect, fwd.URL)
		t.Cleanup(front.Close)
		env[s.addrVar] = front.URL
		fwds, fronts = append(fwds, fwd), append(fronts, front)
	}
	// broker.hcl of the example may name addresses too: the environment wins.
	code, out, errb := brokerWith(t, func(k string) string { return env[k] }, nil, "plan", dir)
	if code == exitOK || code == exitChanges {
		t.Errorf("plan through redirecting fronts: exit %d", code)
	}
	// The live state is read from the three servers at once: the first
	// refusal, from any of them, is the error.
	hostOf := func(s string) string { u, _ := url.Parse(s); return u.Host }
	named := false
	for i := range fronts {
		named = named || strings.Contains(errb, hostOf(fronts[i].URL)) && strings.Contains(errb, hostOf(fwds[i].URL))
	}
	if !named || !strings.Contains(errb, "refused a redirect") {
		t.Errorf("stderr does not name both addresses of a server:\n%s", errb)
	}
	if len(fronts[0].Requests())+len(fronts[1].Requests())+len(fronts[2].Requests()) == 0 {
		t.Error("the fronts got no request: the test proves nothing")
	}
	for i, f := range fwds {
		for _, r := range f.Requests() {
			t.Errorf("real server %d got %s %s through a redirect", i, r.Method, r.Path)
		}
	}
	for _, secret := range []string{env["VAULT_TOKEN"], env["NOMAD_TOKEN"], env["CONSUL_HTTP_TOKEN"]} {
		if secret != "" && strings.Contains(out+errb, secret) {
			t.Error("an admin token appears in the output")
		}
	}
}
