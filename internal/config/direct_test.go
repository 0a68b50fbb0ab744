package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/discovery"
)

// TestDirectLoginFromDiscoveryAndFile: a profile's direct login comes
// from the discovery document's names (an unknown mode is off), or from
// the config file's attributes (a bad mode is an error naming the file);
// a config file's profile that says nothing of it keeps the document's.
func TestDirectLoginFromDiscoveryAndFile(t *testing.T) {
	doc := &discovery.Document{Profiles: []discovery.Profile{
		{Name: "ci", Nomad: true, Consul: true, Direct: &discovery.Direct{Mode: "fallback", NomadAuthMethod: "alilogin-ci", ConsulAuthMethod: "alilogin-ci"}},
		{Name: "odd", Nomad: true, Direct: &discovery.Direct{Mode: "sometimes", NomadAuthMethod: "alilogin-odd"}},
	}}
	layer := FromDiscovery(doc)
	if diff := cmp.Diff(Direct{Mode: DirectFallback, NomadAuthMethod: "alilogin-ci", ConsulAuthMethod: "alilogin-ci"}, layer.Profiles[0].Direct); diff != "" {
		t.Errorf("ci (-want +got):\n%s", diff)
	}
	if layer.Profiles[1].Direct.On() {
		t.Errorf("an unknown mode is on: %+v", layer.Profiles[1].Direct)
	}

	file, err := Parse("/home/u/.config/alilogin/config.hcl", []byte(`profile "ci" {
  roles = ["x"]
}
profile "own" {
  direct_login      = "always"
  nomad_auth_method = "m"
}
`))
	if err != nil {
		t.Fatal(err)
	}
	merged := Config{}
	overlay(&merged, layer)
	overlay(&merged, file)
	ci, _ := merged.Profile("ci")
	own, _ := merged.Profile("own")
	if !ci.Direct.On() || ci.Direct.NomadAuthMethod != "alilogin-ci" || !own.Direct.On() || own.Direct.Mode != DirectAlways || own.Direct.Method("nomad") != "m" {
		t.Errorf("merged: ci %+v, own %+v", ci.Direct, own.Direct)
	}

	_, err = Parse("/home/u/.config/alilogin/config.hcl", []byte("profile \"ci\" {\n  direct_login = \"sometimes\"\n}\n"))
	if err == nil || !strings.Contains(err.Error(), "config.hcl:2") || !strings.Contains(err.Error(), "direct_login") {
		t.Errorf("a bad direct_login: %v", err)
	}
}
