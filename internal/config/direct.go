package config

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/alisw/alilogin/internal/discovery"
)

// A profile's direct login at Nomad and Consul (issue 24): with the SSO's
// ID token at the JWT auth methods the broker makes, when Vault cannot
// issue the tokens ("fallback") or always ("always"). The broker's
// discovery document says it; the config file may say it of a profile
// of its own:
//
//	profile "ci" {
//	  direct_login       = "fallback"
//	  nomad_auth_method  = "alilogin-ci"
//	  consul_auth_method = "alilogin-ci"
//	}
//
// A profile of a higher layer that says nothing of it keeps the lower
// layer's (mergeDirect).

// The modes of a profile's direct login.
const (
	DirectOff      = "off"
	DirectFallback = "fallback"
	DirectAlways   = "always"
)

// Direct is a profile's direct login; the zero value is off.
type Direct struct {
	Mode                              string // DirectOff (or ""), DirectFallback, DirectAlways
	NomadAuthMethod, ConsulAuthMethod string // empty: none at that server
}

// On reports whether the profile logs in directly at all.
func (d Direct) On() bool {
	return (d.Mode == DirectFallback || d.Mode == DirectAlways) && (d.NomadAuthMethod != "" || d.ConsulAuthMethod != "")
}

// Method is the auth method of server ("nomad", "consul"); "" when none.
func (d Direct) Method(server string) string {
	switch server {
	case "nomad":
		return d.NomadAuthMethod
	case "consul":
		return d.ConsulAuthMethod
	}
	return ""
}

// directFromDiscovery is a discovery document's direct login of a
// profile; an unknown mode is off.
func directFromDiscovery(d *discovery.Direct) Direct {
	if d == nil || (d.Mode != DirectFallback && d.Mode != DirectAlways) {
		return Direct{}
	}
	return Direct{Mode: d.Mode, NomadAuthMethod: d.NomadAuthMethod, ConsulAuthMethod: d.ConsulAuthMethod}
}

// directAttrs are the profile attributes of the config file's direct login.
var directAttrs = []string{"direct_login", "nomad_auth_method", "consul_auth_method"}

// direct decodes a profile's direct login attributes into p.
func (d *decoder) direct(a hcl.Attributes, p *Profile) {
	p.Direct = Direct{Mode: d.str(a, "direct_login"), NomadAuthMethod: d.str(a, "nomad_auth_method"), ConsulAuthMethod: d.str(a, "consul_auth_method")}
	switch p.Direct.Mode {
	case "", DirectOff, DirectFallback, DirectAlways:
	default:
		at := a["direct_login"]
		d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid direct_login",
			Detail: fmt.Sprintf("direct_login is %q: want \"fallback\", \"always\" or \"off\".", p.Direct.Mode), Subject: at.Expr.Range().Ptr()})
	}
}

// mergeDirect is higher replacing lower (the same profile in two
// layers), with lower's direct login kept when higher says nothing of it.
func mergeDirect(lower, higher Profile) Profile {
	if higher.Direct == (Direct{}) {
		higher.Direct = lower.Direct
	}
	return higher
}
