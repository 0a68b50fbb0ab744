package cmdroot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestNew(t *testing.T) {
	var out, errb bytes.Buffer
	root := New(context.Background(), "tool", "A tool", strings.NewReader(""), &out, &errb, 64)
	root.AddCommand(&cobra.Command{Use: "sub", RunE: func(*cobra.Command, []string) error { return nil }})
	root.SetArgs([]string{"sub", "--bogus"})
	err := root.Execute()
	if code := Code(err, 1); code != 64 {
		t.Errorf("flag error: exit code %d, want 64 (%v)", code, err)
	}
	if err == nil || !strings.Contains(err.Error(), "unknown flag: --bogus") || !strings.Contains(err.Error(), "run 'tool sub --help' for usage") {
		t.Errorf("error %v", err)
	}
	if out.Len()+errb.Len() != 0 {
		t.Errorf("printed by itself: %q %q", out.String(), errb.String())
	}
}

func TestPrintError(t *testing.T) {
	var b strings.Builder
	PrintError(&b, "alilogin", fmt.Errorf("could not log out: %w", errors.Join(errors.New("Vault: \x1b]0;pwned\x07"), errors.New("Nomad: \x1b[2J"))))
	if got, want := b.String(), "alilogin: could not log out: Vault: ?]0;pwned?\nNomad: ?[2J\n"; got != want {
		t.Errorf("PrintError wrote %q, want %q", got, want)
	}
}
