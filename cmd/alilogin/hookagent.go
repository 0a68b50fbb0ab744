package main

import (
	"context"
	"time"

	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/shellenv"
)

// agentHookEvery is how often the hook's agent mode opens the profile
// again when nothing else made it: the gates do not expire, the agent
// renews the tokens behind them.
const agentHookEvery = time.Hour

// hookAgentVars is the hook's refresh in agent mode: the agent's routes
// and fresh gates (the shell's ALILOGIN_PROFILE left alone, as in
// hookVars), and as the file to watch the profile's gates file in the
// agent directory, which the agent replaces or removes whenever those
// gates die (a logout, the agent stopped or started again): the next
// prompt then refreshes. When the agent cannot give gates (a login
// needed), the stored login's generation file is watched instead, so
// that a login anywhere refreshes at the next prompt.
func hookAgentVars(ctx context.Context, e *cmdEnv, s *session.Session, st *shellenv.HookState, now time.Time) ([]shellenv.Var, time.Time, error) {
	a, err := openAgent(ctx, e, s.Profile, nil)
	if err != nil {
		st.GenFile, st.Gen = s.Watch()
		return nil, time.Time{}, err
	}
	st.GenFile, st.Gen = a.GatesFile, a.GatesGen
	return a.HookVars(s.Profile, e.environ()), now.Add(agentHookEvery), nil
}
