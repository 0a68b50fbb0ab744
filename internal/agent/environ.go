package agent

import (
	"runtime"

	"github.com/alisw/alilogin/internal/envcontract"
)

// What the commands ask of the environment contract in agent mode
// (internal/envcontract/standin.go) for an agent's answer: cmd keeps
// flags, arguments and printing.

// StandIns are a's gates as the environment contract takes them.
func (a *Answer) StandIns() []envcontract.StandIn {
	var ins []envcontract.StandIn
	for _, g := range a.Gates {
		ins = append(ins, envcontract.StandIn{Kind: g.Server, Gate: g.Gate, Addr: g.Addr})
	}
	return ins
}

// Vars is the environment for the gates of a (env --agent):
// envcontract.StandInVarsOn.
func (a *Answer) Vars(profile string, environ []string) []envcontract.Var {
	return envcontract.StandInVarsOn(profile, a.StandIns(), environ, runtime.GOOS)
}

// HookVars is Vars without the profile variable: the hook leaves the
// shell's ALILOGIN_PROFILE alone.
func (a *Answer) HookVars(profile string, environ []string) []envcontract.Var {
	return envcontract.WithoutProfile(a.Vars(profile, environ))
}

// Child is the environment of exec --agent's child for the gates of a:
// envcontract.StandInChildOn.
func (a *Answer) Child(profile string, environ []string) []string {
	return envcontract.StandInChildOn(profile, a.StandIns(), environ, runtime.GOOS)
}

// ProcessEnv is the process's environment as alilogin reads it, what
// agent mode changed put back (envcontract.ProcessEnv).
func ProcessEnv() (func(string) string, func() []string) { return envcontract.ProcessEnv() }

// EnvLookup is getenv over an environment list (envcontract.Getenv).
func EnvLookup(env []string) func(string) string { return envcontract.Getenv(env) }
