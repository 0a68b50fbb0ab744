package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"slices"
	"strings"

	"github.com/alisw/alilogin/internal/envcontract"
	"github.com/alisw/alilogin/internal/shellenv"
)

// agentEnvVar holds, in an agent-mode environment (env --agent, the
// hook's agent mode, exec --agent's child), what agent mode set and what
// those variables were before: the servers' real addresses and TLS
// settings are alilogin's own configuration (VAULT_ADDR, NOMAD_CACERT...),
// and an alilogin run there (the next refresh of the hook, exec --agent
// in a child shell, token, status) must read the real ones, not the
// agent's routes. Never a token: token variables are not kept.
const agentEnvVar = "ALILOGIN_AGENT_ENV"

// agentSaved is agentEnvVar's content (JSON, base64url).
type agentSaved struct {
	Set   map[string]string `json:"set"`             // what agent mode set
	Unset []string          `json:"unset,omitempty"` // what it unset
	Was   map[string]string `json:"was,omitempty"`   // their values before, for those that had one
}

// agentSavedVar is agentEnvVar for vars, agent mode's variables for
// environ.
func agentSavedVar(vars []shellenv.Var, environ []string) shellenv.Var {
	s := agentSaved{Set: map[string]string{}, Was: map[string]string{}}
	tokens := envcontract.TokenVars()
	for _, v := range vars {
		if slices.Contains(tokens, v.Name) || v.Name == envcontract.ProfileVar {
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
	tokens := envcontract.TokenVars()
	restore := map[string]bool{}
	for n, v := range s.Set {
		if cur, ok := envcontract.Lookup(environ, n); ok && cur == v && !slices.Contains(tokens, n) {
			restore[n] = true
		}
	}
	for _, n := range s.Unset {
		if _, ok := envcontract.Lookup(environ, n); !ok && !slices.Contains(tokens, n) {
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
	get := envLookup(env)
	return get, func() []string { return slices.Clone(env) }
}
