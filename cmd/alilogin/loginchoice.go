package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/store"
)

// chooseLoginProfile is the profile of a login given none, from the
// user's roles (session.ChooseProfile); when they allow several and
// stdin and stderr are a terminal, the user picks one there. several:
// the roles allow several.
func chooseLoginProfile(ctx context.Context, e *cmdEnv, cfg *config.Config, roles []string) (p string, several bool, err error) {
	p, err = session.ChooseProfile(cfg, roles)
	var se *session.SeveralProfilesError
	if !errors.As(err, &se) {
		return p, false, err
	}
	if !isTerminal(e.Stdin) || !isTerminal(e.Stderr) {
		return "", true, err
	}
	p, err = askProfile(ctx, e.Stdin, e.Stderr, se.Allowed)
	return p, true, err
}

// askProfile asks on w for one of names (configured profile names: safe
// to print), read as its number or its name from in.
func askProfile(ctx context.Context, in io.Reader, w io.Writer, names []string) (string, error) {
	fmt.Fprintln(w, "Your roles allow several profiles:")
	for i, n := range names {
		fmt.Fprintf(w, "  %d) %s\n", i+1, n)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for range 3 {
		fmt.Fprintf(w, "Profile to log in to [1-%d]: ", len(names))
		select {
		case <-ctx.Done():
			fmt.Fprintln(w)
			return "", errors.New("interrupted before a profile was chosen")
		case l, ok := <-lines:
			if !ok {
				fmt.Fprintln(w)
				return "", cmdroot.With(exitUsage, errors.New("no profile chosen"))
			}
			l = strings.TrimSpace(l)
			if n, err := strconv.Atoi(l); err == nil && n >= 1 && n <= len(names) {
				return names[n-1], nil
			}
			if slices.Contains(names, l) {
				return l, nil
			}
			fmt.Fprintf(w, "  type a number from 1 to %d, or a profile's name\n", len(names))
		}
	}
	return "", cmdroot.With(exitUsage, errors.New("no profile chosen"))
}

// keepSignIn says with err (no profile chosen, Vault does not know the
// one named) that the sign-in of a login that did not happen is kept for
// the next login, when it was (session.KeepPending).
func keepSignIn(e *cmdEnv, kept bool, in *session.SignedIn, err error) error {
	err = withHint(err)
	if !kept {
		return err
	}
	left := store.PendingMaxAge - e.now().Sub(in.At)
	return fmt.Errorf("%w\n(your sign-in is kept for %s: alilogin login --profile NAME needs no browser until then)", err, shortDuration(left))
}

// writeCurrentNote says what a login did to the current profile: made
// it the login's, or left another.
func writeCurrentNote(w io.Writer, out *session.LoginResult) {
	if out.CurrentErr != nil {
		fmt.Fprintf(w, "alilogin: warning: %v\n", withHint(out.CurrentErr))
	}
	p := out.Record.Profile
	switch {
	case out.MadeCurrent:
		fmt.Fprintf(w, "current profile: %s (used without --profile; switch with: alilogin use PROFILE)\n", p)
	case out.Current != "" && out.Current != p:
		fmt.Fprintf(w, "current profile: still %s (to use %s without --profile: alilogin use %s)\n", out.Current, p, p)
	}
}
