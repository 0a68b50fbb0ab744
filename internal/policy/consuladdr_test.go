package policy

import (
	"strings"
	"testing"
)

// TestBrokerHCLConsulHostPort: broker.hcl's consul address may be
// HOST:PORT, as CONSUL_HTTP_ADDR and the consul CLI have it: plain http,
// so on loopback only. vault and nomad addresses stay URLs, as their
// CLIs have them.
func TestBrokerHCLConsulHostPort(t *testing.T) {
	const sso = "sso {\n  issuer = \"https://x\"\n  client_id = \"c\"\n}\nvault {}\n"
	cfg, err := LoadFS(minimal(t, map[string]string{"broker.hcl": sso + "consul {\n  address = \"127.0.0.1:8500\"\n}\n"}), "p")
	if err != nil || cfg.Consul.Addr != "http://127.0.0.1:8500" {
		t.Fatalf("consul 127.0.0.1:8500: address %q, %v; want http://127.0.0.1:8500", addrOf(cfg), err)
	}
	for _, tc := range []struct{ block, want string }{
		{"consul {\n  address = \"consul.service:8500\"\n}\n", `plain http:// to a host that is not loopback: "http://consul.service:8500"`},
		{"nomad {\n  address = \"127.0.0.1:4646\"\n}\n", `"127.0.0.1:4646" is not a URL`},
	} {
		_, err := LoadFS(minimal(t, map[string]string{"broker.hcl": sso + tc.block}), "p")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.block, err, tc.want)
		}
	}
}

func addrOf(cfg *Config) string {
	if cfg == nil {
		return ""
	}
	return cfg.Consul.Addr
}
