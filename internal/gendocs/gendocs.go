package gendocs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// Write writes root's man pages to dir/man1/<command path>.1 and its
// completions to dir/completions/<name>.bash, _<name> (zsh) and
// <name>.fish. date goes into the pages' headers (the commit time, for a
// reproducible release); source names the build ("alilogin v1.2.3").
func Write(root *cobra.Command, dir string, date time.Time, source string) error {
	root.DisableAutoGenTag = true // no "generated on <today>" line
	// What cobra adds only when it executes: --version (where the root
	// has a Version), and the completion command.
	root.InitDefaultVersionFlag()
	root.InitDefaultCompletionCmd()
	name := root.Name()
	man := filepath.Join(dir, "man1")
	comp := filepath.Join(dir, "completions")
	for _, d := range []string{man, comp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("could not create %s: %w", d, err)
		}
	}
	date = date.UTC()
	header := &doc.GenManHeader{Section: "1", Date: &date, Source: source, Manual: name + " manual"}
	if err := doc.GenManTree(root, header, man); err != nil {
		return fmt.Errorf("could not write man pages: %w", err)
	}
	for file, gen := range map[string]func(*bytes.Buffer) error{
		name + ".bash": func(b *bytes.Buffer) error { return root.GenBashCompletionV2(b, true) },
		"_" + name:     func(b *bytes.Buffer) error { return root.GenZshCompletion(b) },
		name + ".fish": func(b *bytes.Buffer) error { return root.GenFishCompletion(b, true) },
	} {
		var b bytes.Buffer
		if err := gen(&b); err != nil {
			return fmt.Errorf("could not generate %s: %w", file, err)
		}
		if err := os.WriteFile(filepath.Join(comp, file), b.Bytes(), 0o644); err != nil {
			return fmt.Errorf("could not write %s: %w", file, err)
		}
	}
	return nil
}

// NewCmd is the hidden `__gen-docs [--date RFC3339] DIR` command; root
// builds the full command tree to document.
func NewCmd(root func() *cobra.Command, source func() string) *cobra.Command {
	var date string
	c := &cobra.Command{
		Use:    "__gen-docs DIR",
		Short:  "Write man pages and shell completions to DIR (release builds)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			t, err := time.Parse(time.RFC3339, strings.TrimSpace(date))
			if err != nil {
				return fmt.Errorf("could not parse --date: %w", err)
			}
			return Write(root(), args[0], t, source())
		},
	}
	c.Flags().StringVar(&date, "date", "", "date in the man pages' headers, RFC 3339 (required)")
	return c
}
