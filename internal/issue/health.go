package issue

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/secret"
)

// Vault's health (sys/health) is asked by login's preflight, which wants
// any answer at all, and by the direct login's short probe, which wants
// to know whether Vault can issue tokens: one question (AskVaultHealth),
// two readings (Answered, CanIssue). Each caller bounds the wait with
// its ctx.

// ErrVaultSealed: Vault answered that it is sealed (or not initialized):
// it issues nothing.
var ErrVaultSealed = errors.New("Vault is sealed")

// ErrNoActiveNode: Vault answered from a standby that has no active node
// to forward to (or with another server error): it issues nothing.
var ErrNoActiveNode = errors.New("Vault has no active node")

// VaultHealth is Vault's answer to one sys/health question.
type VaultHealth struct {
	vault                        *apiclient.Client // without a token
	err                          error             // the question's: transport, status or decoding
	initialized, sealed, standby bool
}

// AskVaultHealth asks vault (its token is not sent) sys/health, with
// standbys and performance standbys answering 200.
func AskVaultHealth(ctx context.Context, vault *apiclient.Client) *VaultHealth {
	h := &VaultHealth{vault: vault.WithToken(secret.String{})}
	var body struct{ Initialized, Sealed, Standby bool }
	h.err = h.vault.Do(ctx, http.MethodGet, "/v1/sys/health?standbyok=true&perfstandbyok=true", nil, &body)
	h.initialized, h.sealed, h.standby = body.Initialized, body.Sealed, body.Standby
	return h
}

// Answered is login's reading: nil when Vault gave any HTTP answer,
// else the error of a Vault that could not be reached
// (apiclient.Unreachable).
func (h *VaultHealth) Answered() error {
	if h.err == nil || !apiclient.Unreachable(h.err) {
		return nil
	}
	return h.err
}

// CanIssue is the short probe's reading: nil when Vault is active or a
// standby (which forwards) that knows an active node, ErrVaultSealed
// (wrapped) when it is sealed or not initialized, ErrNoActiveNode
// (wrapped) when it is a standby with no active node to forward to (its
// health still answers 200 to standbyok, every other request 500), else
// the error (an unreachable Vault: apiclient.Unreachable). For a
// standby it asks sys/leader, within ctx.
func (h *VaultHealth) CanIssue(ctx context.Context) error {
	switch st := apiclient.StatusOf(h.err); {
	case h.err == nil && h.initialized && !h.sealed && !h.standby:
		return nil
	case h.err == nil && h.initialized && !h.sealed:
		// A standby: it forwards to the active node, if it knows one
		// (sys/leader's leader_address; a standby with none answers
		// the request with 500).
		var l struct {
			LeaderAddress string `json:"leader_address"`
		}
		if lerr := h.vault.Do(ctx, http.MethodGet, "/v1/sys/leader", nil, &l); lerr != nil || l.LeaderAddress == "" {
			if apiclient.Unreachable(lerr) || errors.Is(lerr, context.DeadlineExceeded) {
				return lerr
			}
			return fmt.Errorf("%w (%s)", ErrNoActiveNode, serverName(h.vault))
		}
		return nil
	case h.err == nil, st == http.StatusServiceUnavailable, st == http.StatusNotImplemented:
		return fmt.Errorf("%w (%s)", ErrVaultSealed, serverName(h.vault))
	case st >= 500:
		return fmt.Errorf("%w (%s)", ErrNoActiveNode, serverName(h.vault))
	}
	return h.err
}
