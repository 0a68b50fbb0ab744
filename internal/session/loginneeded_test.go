package session

import (
	"errors"
	"fmt"
	"testing"

	"github.com/alisw/alilogin/internal/renew"
	"github.com/alisw/alilogin/internal/store"
)

// TestLoginNeededOnlyWhenANewLoginHelps: the agent drops a profile on
// these errors (session.LoginNeeded), never on a Mismatch (a new login
// would revoke the real one) or a plain failure.
func TestLoginNeededOnlyWhenANewLoginHelps(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{ErrNotLoggedIn, true},
		{fmt.Errorf("%w: the SSO session ended", renew.ErrLoginNeeded), true},
		{&renew.IdentityChangedError{Profile: "ci", Issuer: "https://a", Subject: "s", GotIssuer: "https://a", GotSubject: "t"}, true},
		{&renew.ServerBindingError{Profile: "ci", Server: "Vault", Unrecorded: true}, true},
		{&renew.ServerBindingError{Profile: "ci", Server: "Vault"}, false}, // a Mismatch
		{&store.CorruptError{}, false},
		{errors.New("connection refused"), false},
		{nil, false},
	} {
		if got := LoginNeeded(tc.err); got != tc.want {
			t.Errorf("LoginNeeded(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
