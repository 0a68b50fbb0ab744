package envcontract

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"slices"
	"strings"

	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
)

// This file is the environment contract of agent mode (env --agent, the
// hook's agent mode, exec --agent's child): stand-ins for the servers
// (the agent's routes and gates), what agent mode unsets, and
// SavedEnvVar, which lets an alilogin run there find the real servers.

// StandIn is a route of the agent standing in for a server: its address
// (http://127.0.0.1:PORT) and the gate it accepts as the token.
type StandIn struct {
	Kind store.Kind
	Gate string
	Addr string
}

// StandIns is what a program is given in agent mode: for each stand-in,
// its route as the server's address and its gate as the token, plain
// HTTP (Endpoint.Plain: the real servers' TLS settings are unset: the
// agent checks them and presents the client certificate), and no expiry
// (a gate does not expire).
func StandIns(profile string, ins []StandIn) Handout {
	h := Handout{Profile: profile}
	for _, g := range ins {
		h.Endpoints = append(h.Endpoints, Endpoint{Kind: g.Kind, Token: secret.New(g.Gate), Addr: g.Addr, Plain: true})
	}
	return h
}

// StandInVarsOn is the environment on goos for the stand-ins (the
// contract of StandIns), with StandInUnsets and SavedEnvVar.
func StandInVarsOn(profile string, ins []StandIn, environ []string, goos string) []Var {
	vars := StandIns(profile, ins).VarsOn(environ, goos)
	vars = append(vars, StandInUnsets(vars)...)
	return append(vars, SavedVar(vars, environ))
}

// StandInChildOn is the environment of exec --agent's child on goos: the
// handout's (Handout.ChildOn) with StandInUnsets and SavedEnvVar.
func StandInChildOn(profile string, ins []StandIn, environ []string, goos string) []string {
	h := StandIns(profile, ins)
	vars := h.VarsOn(environ, goos)
	extra := StandInUnsets(vars)
	return ApplyOn(h.ChildOn(environ, goos), append(extra, SavedVar(append(vars, extra...), environ)), goos)
}

// StandInUnsets are the variables agent mode unsets beyond vars (the
// handout's): no server's token, token file, client certificate or key
// reaches a tool in agent mode, routed or not, so that a direct-mode
// shell's key paths (one key for all servers) and tokens do not either.
func StandInUnsets(vars []Var) []Var {
	var names []string
	for _, s := range store.Kinds {
		x := For(s)
		names = append(names, x.Token, x.ClientCert, x.ClientKey)
	}
	var out []Var
	for _, n := range append(names, StandInUnsetAlways...) {
		if !slices.ContainsFunc(vars, func(v Var) bool { return v.Name == n }) {
			out = append(out, Var{Name: n, Unset: true})
		}
	}
	return out
}

// StandInUnsetAlways are the variables that carry a token another way
// (a file of it, consul-template's name), unset in agent mode whichever
// servers it routes.
var StandInUnsetAlways = []string{"CONSUL_HTTP_TOKEN_FILE", "CONSUL_TOKEN", ExpiryVar}

// WithoutProfile is vars without ProfileVar (the hook leaves the
// shell's ALILOGIN_PROFILE alone).
func WithoutProfile(vars []Var) []Var {
	return slices.DeleteFunc(vars, func(v Var) bool { return v.Name == ProfileVar })
}

// SavedEnvVar holds, in an agent-mode environment (env --agent, the
// hook's agent mode, exec --agent's child), what agent mode set and what
// those variables were before, for the variables alilogin reads to find
// the real servers: their addresses, CA files, TLS server names
// (VAULT_ADDR, NOMAD_CACERT...: Savable). An alilogin run there (the
// next refresh of the hook, exec --agent in a child shell, token,
// status) must reach the real servers, not the agent's routes, and
// these may be the user's configuration. Nothing else is kept: never a
// token, a token file, a client certificate or key path (a tool could
// read it from here), which agent mode unsets for every server; a client
// certificate configured in the environment does not follow into an
// agent-mode shell (the configuration file's does).
const SavedEnvVar = "ALILOGIN_AGENT_ENV"

// saved is SavedEnvVar's content (JSON, base64url).
type saved struct {
	Set   map[string]string `json:"set"`             // what agent mode set
	Unset []string          `json:"unset,omitempty"` // what it unset
	Was   map[string]string `json:"was,omitempty"`   // their values before, for those that had one
}

// Savable reports whether SavedEnvVar may keep variable n: a server's
// address, CA file, TLS server name or https switch.
func Savable(n string) bool {
	for _, s := range store.Kinds {
		x := For(s)
		if n == x.Addr || n == x.CACert || n == x.TLSServerName || (x.HTTPS != "" && n == x.HTTPS) {
			return true
		}
	}
	return false
}

// SavedVar is SavedEnvVar for vars, agent mode's variables for environ.
func SavedVar(vars []Var, environ []string) Var {
	s := saved{Set: map[string]string{}, Was: map[string]string{}}
	for _, v := range vars {
		if !Savable(v.Name) {
			continue
		}
		if v.Unset {
			s.Unset = append(s.Unset, v.Name)
		} else {
			s.Set[v.Name] = v.Value
		}
		if old, ok := Lookup(environ, v.Name); ok {
			s.Was[v.Name] = old
		}
	}
	b, _ := json.Marshal(s)
	return Var{Name: SavedEnvVar, Value: base64.RawURLEncoding.EncodeToString(b)}
}

// Restored is environ with what agent mode changed put back, for
// alilogin's own reading of its configuration: each variable agent mode
// set that still has the value it set, and each it unset that is still
// unset, gets its earlier value (or none) again; a variable changed
// since is the user's and stays. Without SavedEnvVar, environ as it is.
func Restored(environ []string) []string {
	raw, ok := Lookup(environ, SavedEnvVar)
	if !ok {
		return environ
	}
	var s saved
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || json.Unmarshal(b, &s) != nil {
		return environ
	}
	restore := map[string]bool{}
	for n, v := range s.Set {
		if cur, ok := Lookup(environ, n); ok && cur == v && Savable(n) {
			restore[n] = true
		}
	}
	for _, n := range s.Unset {
		if _, ok := Lookup(environ, n); !ok && Savable(n) {
			restore[n] = true
		}
	}
	var out []string
	for _, kv := range environ {
		n, _, _ := strings.Cut(kv, "=")
		if !restore[n] && n != SavedEnvVar {
			out = append(out, kv)
		}
	}
	for n := range restore {
		if v, ok := s.Was[n]; ok {
			out = append(out, n+"="+v)
		}
	}
	return out
}

// ProcessEnv is the process's environment as alilogin reads it
// (Restored), with its getenv; os.Getenv and os.Environ when no agent
// mode is in it (the common case costs one lookup).
func ProcessEnv() (func(string) string, func() []string) {
	if _, ok := os.LookupEnv(SavedEnvVar); !ok {
		return os.Getenv, os.Environ
	}
	env := Restored(os.Environ())
	get := Getenv(env)
	return get, func() []string { return slices.Clone(env) }
}

// Getenv is getenv over an environment list (the first entry of a name
// wins, as for getenv(3)).
func Getenv(env []string) func(string) string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			if _, seen := m[k]; !seen {
				m[k] = v
			}
		}
	}
	return func(k string) string { return m[k] }
}
