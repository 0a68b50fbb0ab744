// Package agent is `alilogin agent`: one process per user that holds each
// profile's real tokens and client certificate in memory and gives tools
// stand-in "gate" tokens instead.
//
// A tool talks to a loopback listener of the agent, one per server kind
// (Nomad, Consul, Vault), with a gate where it would send the real token.
// The agent checks who connects (internal/peercred: the socket's owner
// must be the agent's user, on Linux), that the request names the agent's
// own address in Host (DNS rebinding) and carries no foreign Origin (a
// web page), looks the gate up, asks the guard (internal/agent/guard, the
// routes that would hand a real secret back or that a read-only profile
// may not use), takes every token the client sent out, puts the real one
// in, and forwards through httputil.ReverseProxy to the configured server
// with the client certificate of the login, checking the server as the
// CLI does (internal/apiclient).
//
// The control socket (control.go) is a 0600 UNIX socket in a 0700
// directory derived from the uid (dir.go), whatever XDG_RUNTIME_DIR a
// shell has, so that every alilogin of the user finds the same agent:
// `exec --agent` and `env --agent` open a profile there and get gates,
// `logout` drops the profile, `agent status` and `agent stop` ask there.
// Peers are checked by their kernel credentials (SO_PEERCRED).
//
// The tokens are renewed through the same renewal chain as `alilogin
// token` (internal/session, through the Loader interface the command
// wires), so there is still one refresh for all callers; a change of the
// profile's stored login made by any alilogin (login, renewal, logout) is
// noticed through the store's generation file, and a logout drops the
// profile and its gates.
package agent
