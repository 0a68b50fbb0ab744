package envcontract

import (
	"net/url"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
)

// Var is one variable of a program's environment as alilogin hands it
// out: set to Value, or removed (Unset). env prints them, the hook
// applies them, exec gives them to its child.
type Var struct {
	Name  string
	Value string
	Unset bool
}

// Endpoint is one server as a program gets it: the token to send, the
// address to send it to and the TLS settings to check the server with.
// The same for a login's real servers (FromRecord) and for stand-ins (a
// local proxy's address and the token it accepts).
type Endpoint struct {
	Kind  store.Kind
	Token secret.String
	Addr  string
	// The TLS settings in force: files and the name checked in the
	// server's certificate ("" for each one not set).
	CACert, ClientCert, ClientKey, ServerName string
	// Plain: Addr is a plain-HTTP stand-in (a local proxy): the server's
	// TLS variables (Exports: CA, client certificate and key, server
	// name, the https switch) are unset, not left naming the real
	// server's.
	Plain bool
}

// Handout is everything a program is given for a profile: its servers
// with their tokens, the profile, and when the first of those tokens
// expires. Vars and Child are the one way to turn it into variables.
type Handout struct {
	Profile   string
	Endpoints []Endpoint
	// Expiry is when the first token handed out expires (ExpiryVar);
	// zero: not said.
	Expiry time.Time
}

// ExecMarker is set in exec's child to the profile; its presence refuses
// nesting.
const ExecMarker = "ALILOGIN_EXEC"

// Vars is the environment contract applied to h for a program whose
// environment is environ (env prints them, the hook applies them): each
// endpoint's token, address and TLS settings; the inherited variables
// that would send those tokens elsewhere or check their servers more
// weakly unset (Clear); http2debug taken out of GODEBUG (a Go CLI would
// print its token headers); the profile and the expiry. An endpoint
// without an address is left out: the CLIs would send its token to their
// default local address.
func (h Handout) Vars(environ []string) []Var { return h.VarsOn(environ, runtime.GOOS) }

// VarsOn is Vars on goos (on Windows names match in any case).
func (h Handout) VarsOn(environ []string, goos string) []Var {
	var vars []Var
	add := func(name, value string) {
		if value != "" {
			vars = append(vars, Var{Name: name, Value: value})
		}
	}
	servers := h.servers()
	for _, ep := range h.handed() {
		x := For(ep.Kind)
		add(x.Token, ep.Token.Reveal())
		add(x.Addr, ep.Addr)
		add(x.CACert, ep.CACert)
		add(x.ClientCert, ep.ClientCert)
		add(x.ClientKey, ep.ClientKey)
		add(x.TLSServerName, ep.ServerName)
		if ep.Plain {
			for _, n := range []string{x.CACert, x.ClientCert, x.ClientKey, x.TLSServerName, x.HTTPS} {
				if n != "" {
					vars = append(vars, Var{Name: n, Unset: true})
				}
			}
		}
	}
	set := func(n string) bool {
		return slices.ContainsFunc(vars, func(v Var) bool { return v.Name == n })
	}
	for _, n := range Clear(servers, set, environ, goos) {
		vars = append(vars, Var{Name: n, Unset: true})
	}
	if v, ok := LookupOn(environ, DebugVar, goos); ok && len(servers) > 0 {
		if d, changed := StripDebug(v); changed {
			vars = append(vars, Var{Name: DebugVar, Value: d, Unset: d == ""})
		}
	}
	add(ProfileVar, h.Profile)
	if !h.Expiry.IsZero() && len(servers) > 0 {
		add(ExpiryVar, h.Expiry.UTC().Format(time.RFC3339))
	}
	return vars
}

// handed are the endpoints that go out: those with an address.
func (h Handout) handed() []Endpoint {
	var out []Endpoint
	for _, ep := range h.Endpoints {
		if ep.Addr != "" {
			out = append(out, ep)
		}
	}
	return out
}

func (h Handout) servers() []store.Kind {
	var out []store.Kind
	for _, ep := range h.handed() {
		out = append(out, ep.Kind)
	}
	return out
}

// Child is the environment of exec's child, from environ: without the
// stale tokens of every server (StaleVars: a token left from elsewhere
// must not win over, or mix with, the profile's) and the nesting marker,
// with Vars applied, the hosts of the servers added to NO_PROXY and
// no_proxy (the child keeps its proxy settings for everything else, and
// its CLIs send no token through a proxy), and ExecMarker set to the
// profile.
func (h Handout) Child(environ []string) []string { return h.ChildOn(environ, runtime.GOOS) }

// ChildOn is Child on goos: on Windows, where names are
// case-insensitive, every case variant of a name it drops goes.
func (h Handout) ChildOn(environ []string, goos string) []string {
	vars := h.VarsOn(environ, goos)
	var hosts []string
	for _, k := range store.Kinds { // in the contract's order, whatever h's
		for _, ep := range h.handed() {
			if u, err := url.Parse(ep.Addr); ep.Kind == k && err == nil && u.Hostname() != "" {
				hosts = append(hosts, u.Hostname())
			}
		}
	}
	if len(hosts) > 0 {
		for _, st := range NoProxy(environ, hosts) {
			vars = append(vars, Var{Name: st.Name, Value: st.Value})
		}
	}
	drop := []Var{{Name: ExecMarker, Unset: true}}
	for _, n := range StaleVars() {
		drop = append(drop, Var{Name: n, Unset: true})
	}
	env := ApplyOn(environ, drop, goos)
	return ApplyOn(env, append(vars, Var{Name: ExecMarker, Value: h.Profile}), goos)
}

// Apply is environ (NAME=value entries) with vars applied: every entry
// of a name vars has removed, then the vars that are not Unset appended
// in their order.
func Apply(environ []string, vars []Var) []string { return ApplyOn(environ, vars, runtime.GOOS) }

// ApplyOn is Apply on goos (SameName: any case on Windows).
func ApplyOn(environ []string, vars []Var, goos string) []string {
	var out []string
	for _, kv := range environ {
		n, _, _ := strings.Cut(kv, "=")
		if !slices.ContainsFunc(vars, func(v Var) bool { return SameName(n, v.Name, goos) }) {
			out = append(out, kv)
		}
	}
	for _, v := range vars {
		if !v.Unset {
			out = append(out, v.Name+"="+v.Value)
		}
	}
	return out
}

// FromRecord is the handout of a login: the record's tokens of kinds,
// each with its configured server's address and TLS settings, and the
// earliest expiry of those handed out (Record.EarliestExpiry). A token
// the record lacks, or whose server has no configured address, is left
// out (Bound refuses the latter before).
func FromRecord(cfg *config.Config, rec *store.Record, kinds []store.Kind) Handout {
	h := Handout{Profile: rec.Profile}
	var handed []store.Kind
	for _, k := range kinds {
		t, s := rec.Token(k), cfg.Server(k)
		if t == nil || s.Addr == "" {
			continue
		}
		h.Endpoints = append(h.Endpoints, Endpoint{Kind: k, Token: t.Secret, Addr: s.Addr,
			CACert: s.TLS.CACert, ClientCert: s.TLS.ClientCert, ClientKey: s.TLS.ClientKey, ServerName: s.TLS.ServerName})
		handed = append(handed, k)
	}
	h.Expiry = rec.EarliestExpiry(handed...)
	return h
}
