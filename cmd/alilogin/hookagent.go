package main

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/envcontract"
	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/shellenv"
	"github.com/alisw/alilogin/internal/shellhook"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

// agentHookEvery is how often the hook's agent mode opens the profile
// again when nothing else made it: the gates do not expire, the agent
// renews the tokens behind them.
const agentHookEvery = time.Hour

// hookAgentEnv is the hook's refresh in agent mode: the agent's
// addresses and fresh gates, and as the file to watch the profile's
// gates file in the agent directory, which the agent replaces or
// removes whenever those gates die (a logout, the agent stopped or
// started again): the next prompt then refreshes. When the profile is
// not logged in, the stored login's generation file is watched instead,
// so that a login anywhere refreshes at the next prompt.
func hookAgentEnv(ctx context.Context, e *cmdEnv, o *hookOptions, s *session.Session, st *shellhook.State, dialect string, b *strings.Builder) {
	now := e.now()
	var vars []shellenv.Var
	a, err := openAgent(ctx, e, s.Profile, nil)
	if err == nil {
		vars = slices.DeleteFunc(agentVars(a, s.Profile, e.environ()), func(v shellenv.Var) bool { return v.Name == envcontract.ProfileVar })
		var env strings.Builder
		if err = shellenv.Write(&env, dialect, vars); err == nil {
			b.WriteString(env.String())
			for _, v := range vars {
				if !v.Unset && slices.Contains(envcontract.TokenVars(), v.Name) {
					st.Exported = append(st.Exported, v.Name)
				}
			}
			st.Next = now.Add(agentHookEvery)
			st.GenFile, st.Gen = a.GatesFile, a.GatesGen
		}
	}
	if err != nil {
		vars = nil
		st.Msg = "alilogin: " + termtext.Clean(strings.ReplaceAll(err.Error(), "\n", "; "))
		if path, gen, ok := store.Watch(e.getenv, s.Profile); ok {
			st.GenFile, st.Gen = path, string(gen)
		}
	}
	st.Addrs = hookAddrs(e, vars)
	if up, ok := shellhook.Uptime(); ok {
		st.NextUptime = up + st.Next.Sub(now)
	}
	st.Write(b, o.Shell)
}
