package issue

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
)

// TestVaultHealthOneQuestionTwoReadings: login's preflight (Answered:
// any answer) and the direct login's probe (CanIssue: sealed, no active
// node) read the same sys/health answer; only a standby's answer needs
// sys/leader too.
func TestVaultHealthOneQuestionTwoReadings(t *testing.T) {
	for _, tc := range []struct {
		name          string
		status        int
		health        string
		leader        string // "": sys/leader answers 500
		answered      bool
		canIssue      error // nil: can issue
		wantQuestions int32
	}{
		{"active", 200, `{"initialized":true,"sealed":false,"standby":false}`, "", true, nil, 1},
		{"standby with a leader", 200, `{"initialized":true,"sealed":false,"standby":true}`, `{"leader_address":"https://v1:8200"}`, true, nil, 2},
		{"standby without a leader", 200, `{"initialized":true,"sealed":false,"standby":true}`, `{"leader_address":""}`, true, ErrNoActiveNode, 2},
		{"sealed", 503, `{"initialized":true,"sealed":true}`, "", true, ErrVaultSealed, 1},
		{"not initialized", 501, `{"initialized":false,"sealed":true}`, "", true, ErrVaultSealed, 1},
		{"sealed answering 200", 200, `{"initialized":true,"sealed":true}`, "", true, ErrVaultSealed, 1},
		{"server error", 500, `{"errors":["boom"]}`, "", true, ErrNoActiveNode, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var questions atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				questions.Add(1)
				if r.Header.Get("X-Vault-Token") != "" {
					t.Errorf("%s sent a token", r.URL.Path)
				}
				w.Header().Set("Content-Type", "application/json")
				switch r.URL.Path {
				case "/v1/sys/health":
					w.WriteHeader(tc.status)
					w.Write([]byte(tc.health))
				case "/v1/sys/leader":
					if tc.leader == "" {
						w.WriteHeader(500)
						return
					}
					w.Write([]byte(tc.leader))
				default:
					t.Errorf("unexpected %s", r.URL.Path)
				}
			}))
			defer srv.Close()
			c, err := apiclient.New("Vault", srv.URL, "X-Vault-Token", apiclient.TLS{}, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			h := AskVaultHealth(ctx, c)
			if err := h.Answered(); (err == nil) != tc.answered {
				t.Errorf("Answered() = %v, want answered %v", err, tc.answered)
			}
			err = h.CanIssue(ctx)
			switch {
			case tc.canIssue == nil && err != nil:
				t.Errorf("CanIssue() = %v, want nil", err)
			case tc.canIssue != nil && !errors.Is(err, tc.canIssue):
				t.Errorf("CanIssue() = %v, want %v", err, tc.canIssue)
			}
			if n := questions.Load(); n != tc.wantQuestions {
				t.Errorf("%d requests for both readings, want %d", n, tc.wantQuestions)
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		addr := srv.URL
		srv.Close()
		c, err := apiclient.New("Vault", addr, "X-Vault-Token", apiclient.TLS{}, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		h := AskVaultHealth(context.Background(), c)
		if err := h.Answered(); !apiclient.Unreachable(err) {
			t.Errorf("Answered() = %v, want unreachable", err)
		}
		if err := h.CanIssue(context.Background()); !apiclient.Unreachable(err) {
			t.Errorf("CanIssue() = %v, want unreachable", err)
		}
	})
}
