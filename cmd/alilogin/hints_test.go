package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/issue"
	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/testutil"
)

// TestHintsSayWhatToRun: the domain's errors that a command fixes get
// that command after them, once, wrapped or not, and stay what they are
// for errors.As (the exit code); other errors are left as they are.
func TestHintsSayWhatToRun(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("could not read the login: %w", &store.CorruptError{Profile: "ci", Where: "keyring", Err: errors.New("bad json")}),
			`could not read the login: stored login for profile "ci" in keyring is unreadable (bad json); run: alilogin login --profile ci (or remove it with: alilogin logout --profile ci)`},
		{&session.NotChosenError{Stored: []string{"a", "b"}},
			"logged in to several profiles (a, b); choose one with --profile, or make one current: alilogin use PROFILE"},
		{&session.NotChosenError{Stored: []string{"a", "b"}, AllowAll: true},
			"logged in to several profiles (a, b); choose one with --profile, or make one current: alilogin use PROFILE, or use --all"},
		{&session.CurrentFileError{Path: "/s/current-profile", NotRegular: true},
			"/s/current-profile is not a regular file; set the current profile with: alilogin use PROFILE (or remove it)"},
		{&session.CurrentFileError{Path: "/s/current-profile"},
			"/s/current-profile does not name a profile; set one with: alilogin use PROFILE (or remove the file)"},
		{session.ErrNoProfileToChoose,
			"no profile given, and none is configured to choose from; use --profile NAME, or get the profiles from your broker with: alilogin setup --broker URL"},
		{&session.SeveralProfilesError{Allowed: []string{"a", "b"}},
			"your roles allow several profiles: a, b; choose one with --profile (or make one current: alilogin use PROFILE, or set default_profile in the config file)"},
		{&issue.RefusedError{Profile: "ci", Reason: "no role", Unknown: true, UserRoles: []string{"r"}},
			"(broker explain --roles r),\n  or get them from your broker with: alilogin setup --broker URL"},
	} {
		got := withHint(tc.err)
		if !strings.HasSuffix(got.Error(), tc.want) {
			t.Errorf("withHint(%T):\n got %q\nwant it to end in %q", tc.err, got, tc.want)
		}
		if again := withHint(fmt.Errorf("more: %w", got)); strings.Count(again.Error(), "alilogin") != strings.Count(got.Error(), "alilogin") {
			t.Errorf("the hint was added twice: %q", again)
		}
		if !errors.Is(got, tc.err) {
			t.Errorf("withHint(%T) hides the error from errors.Is", tc.err)
		}
	}
	// A record that is no profile's (the pending sign-in's) names no
	// profile to log in to.
	pending := &store.CorruptError{Profile: "the pending sign-in", Where: "keyring", Err: errors.New("bad")}
	if got := withHint(pending); got != error(pending) {
		t.Errorf("withHint of the pending sign-in's corrupt record: %q", got)
	}
	// A profile Vault does not know, with profiles to name: no broker hint.
	known := &issue.RefusedError{Profile: "ci", Reason: "no role", Unknown: true, Known: []string{"a"}}
	if got := withHint(known); got != error(known) {
		t.Errorf("withHint of an unknown profile with others known: %q", got)
	}
	plain := errors.New("could not reach Vault")
	if got := withHint(plain); got != plain {
		t.Errorf("withHint(a plain error) = %q", got)
	}
}

// TestACorruptLoginSaysWhatToRun: a stored login that cannot be read
// makes token and status name the two commands that fix it, status too
// although it shows the error as text among the profiles' lines.
func TestACorruptLoginSaysWhatToRun(t *testing.T) {
	env := testutil.Home(t, map[string]string{"VAULT_ADDR": "http://127.0.0.1:8200"})
	state, err := store.StateDir(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewFile(filepath.Join(state, "records"))
	if err := os.MkdirAll(st.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(st.Path("corrupt"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	want := "run: alilogin login --profile corrupt (or remove it with: alilogin logout --profile corrupt)"
	for _, args := range [][]string{{"token", "--for", "vault"}, {"status"}} {
		if code, _, errb := alilogin(env, args...); code == 0 || strings.Count(errb, want) != 1 {
			t.Errorf("%s on a corrupt login: exit %d, stderr %q; want it to say once %q", args[0], code, errb, want)
		}
	}
}

// TestHookSaysWhatToRun: the shell hook's message for two stored logins
// and none current names `alilogin use PROFILE`, as token does: the hook
// shows the error as text at the prompt.
func TestHookSaysWhatToRun(t *testing.T) {
	env := twoLogins(t)
	_, out, _ := alilogin(env, "hook", "bash", "--env")
	if !strings.Contains(out, "logged in to several profiles (admin, ci); choose one with --profile, or make one current: alilogin use PROFILE") {
		t.Errorf("hook --env with two logins and none current:\n%s", out)
	}
}

// TestLoginWarnsWhatFixesTheCurrentFile: a login that could not read
// the current-profile file (it is stored anyway) warns with what to run.
func TestLoginWarnsWhatFixesTheCurrentFile(t *testing.T) {
	var b strings.Builder
	writeCurrentNote(&b, &session.LoginResult{Record: &store.Record{Profile: "ci"},
		CurrentErr: &session.CurrentFileError{Path: "/s/current-profile"}})
	if want := "alilogin: warning: /s/current-profile does not name a profile; set one with: alilogin use PROFILE (or remove the file)\n"; b.String() != want {
		t.Errorf("the note: %q, want %q", b.String(), want)
	}
}
