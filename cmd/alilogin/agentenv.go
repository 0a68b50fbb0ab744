package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"slices"
	"strings"

	"github.com/alisw/alilogin/internal/agent"
	"github.com/alisw/alilogin/internal/envcontract"
	"github.com/alisw/alilogin/internal/shellenv"
	"github.com/alisw/alilogin/internal/store"
)

// agentEnvVar holds, in an agent-mode environment (env --agent, the
// hook's agent mode, exec --agent's child), what agent mode set and what
// those variables were before, for the variables alilogin reads to find
// the real servers: their addresses, CA files, TLS server names
// (VAULT_ADDR, NOMAD_CACERT...: agentSavable). An alilogin run there (the
// next refresh of the hook, exec --agent in a child shell, token,
// status) must reach the real servers, not the agent's routes, and
// these may be the user's configuration. Nothing else is kept: never a
// token, a token file, a client certificate or key path (a tool could
// read it from here), which agent mode unsets for every server; a client
// certificate configured in the environment does not follow into an
// agent-mode shell (the configuration file's does).
const agentEnvVar = "ALILOGIN_AGENT_ENV"

// agentSaved is agentEnvVar's content (JSON, base64url).
type agentSaved struct {
	Set   map[string]string `json:"set"`             // what agent mode set
	Unset []string          `json:"unset,omitempty"` // what it unset
	Was   map[string]string `json:"was,omitempty"`   // their values before, for those that had one
}

// agentSavable reports whether agentEnvVar may keep variable n: a
// server's address, CA file, TLS server name or https switch.
func agentSavable(n string) bool {
	for _, s := range store.Kinds {
		x := envcontract.For(s)
		if n == x.Addr || n == x.CACert || n == x.TLSServerName || (x.HTTPS != "" && n == x.HTTPS) {
			return true
		}
	}
	return false
}

// agentSavedVar is agentEnvVar for vars, agent mode's variables for
// environ.
func agentSavedVar(vars []shellenv.Var, environ []string) shellenv.Var {
	s := agentSaved{Set: map[string]string{}, Was: map[string]string{}}
	for _, v := range vars {
		if !agentSavable(v.Name) {
			continue
		}
		if v.Unset {
			s.Unset = append(s.Unset, v.Name)
		} else {
			s.Set[v.Name] = v.Value
		}
		if old, ok := envcontract.Lookup(environ, v.Name); ok {
			s.Was[v.Name] = old
		}
	}
	b, _ := json.Marshal(s)
	return shellenv.Var{Name: agentEnvVar, Value: base64.RawURLEncoding.EncodeToString(b)}
}

// agentRestored is environ with what agent mode changed put back, for
// alilogin's own reading of its configuration: each variable agent mode
// set that still has the value it set, and each it unset that is still
// unset, gets its earlier value (or none) again; a variable changed
// since is the user's and stays. Without agentEnvVar, environ as it is.
func agentRestored(environ []string) []string {
	raw, ok := envcontract.Lookup(environ, agentEnvVar)
	if !ok {
		return environ
	}
	var s agentSaved
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || json.Unmarshal(b, &s) != nil {
		return environ
	}
	restore := map[string]bool{}
	for n, v := range s.Set {
		if cur, ok := envcontract.Lookup(environ, n); ok && cur == v && agentSavable(n) {
			restore[n] = true
		}
	}
	for _, n := range s.Unset {
		if _, ok := envcontract.Lookup(environ, n); !ok && agentSavable(n) {
			restore[n] = true
		}
	}
	var out []string
	for _, kv := range environ {
		n, _, _ := strings.Cut(kv, "=")
		if !restore[n] && n != agentEnvVar {
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

// processEnv is the process's environment as alilogin reads it
// (agentRestored), with its getenv; os.Getenv and os.Environ when no
// agent mode is in it (the common case costs one lookup).
func processEnv() (func(string) string, func() []string) {
	if _, ok := os.LookupEnv(agentEnvVar); !ok {
		return os.Getenv, os.Environ
	}
	env := agentRestored(os.Environ())
	get := agent.EnvLookup(env)
	return get, func() []string { return slices.Clone(env) }
}
