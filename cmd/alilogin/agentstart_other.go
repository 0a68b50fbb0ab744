//go:build !unix

package main

import (
	"context"

	"github.com/alisw/alilogin/internal/agent"
)

func ensureAgent(context.Context, *cmdEnv, string) (*agent.Answer, error) {
	return nil, agent.ErrUnsupported
}

func spawnAgent(context.Context, *cmdEnv, string) (*agent.Answer, error) {
	return nil, agent.ErrUnsupported
}
