package gendocs

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
)

func tree() *cobra.Command {
	root := &cobra.Command{Use: "tool", Short: "A tool"}
	sub := &cobra.Command{Use: "sub", Short: "Does sub", RunE: func(*cobra.Command, []string) error { return nil }}
	sub.Flags().Bool("json", false, "print JSON")
	root.AddCommand(sub, &cobra.Command{Use: "secret", Hidden: true, Run: func(*cobra.Command, []string) {}})
	return root
}

func files(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		m[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestWrite: one man page per visible command, dated with the given date
// and never with today's; the three completion scripts; the same bytes
// on a second run.
func TestWrite(t *testing.T) {
	date := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	a, b := t.TempDir(), t.TempDir()
	for _, d := range []string{a, b} {
		if err := Write(tree(), d, date, "tool v1.2.3"); err != nil {
			t.Fatal(err)
		}
	}
	fa := files(t, a)
	var names []string
	for n := range fa {
		names = append(names, n)
	}
	sort.Strings(names)
	want := []string{"completions/_tool", "completions/tool.bash", "completions/tool.fish",
		"man1/tool-completion-bash.1", "man1/tool-completion-fish.1", "man1/tool-completion-powershell.1", "man1/tool-completion-zsh.1", "man1/tool-completion.1",
		"man1/tool-sub.1", "man1/tool.1"}
	if d := cmp.Diff(want, names); d != "" {
		t.Errorf("files (-want +got):\n%s", d)
	}
	if d := cmp.Diff(fa, files(t, b)); d != "" {
		t.Errorf("second run differs:\n%s", d)
	}
	page := fa["man1/tool-sub.1"]
	for _, s := range []string{`.TH "TOOL-SUB" "1" "Mar 2026" "tool v1.2.3" "tool manual"`, "print JSON"} {
		if !strings.Contains(page, s) {
			t.Errorf("tool-sub.1 lacks %q:\n%s", s, page)
		}
	}
	if strings.Contains(page, "Auto generated") {
		t.Errorf("tool-sub.1 has the generated-on line:\n%s", page)
	}
	if !strings.Contains(fa["completions/tool.bash"], "__start_tool") || !strings.Contains(fa["completions/_tool"], "#compdef tool") ||
		!strings.Contains(fa["completions/tool.fish"], "complete -c tool") {
		t.Errorf("completion scripts are not the tool's")
	}
}

func TestNewCmd(t *testing.T) {
	dir := t.TempDir()
	c := NewCmd(tree, func() string { return "tool v1" })
	var out bytes.Buffer
	c.SetOut(&out)
	c.SetErr(&out)
	c.SetArgs([]string{"--date", "2026-03-04T05:06:07Z", dir})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "man1", "tool.1")); err != nil {
		t.Error(err)
	}
	c = NewCmd(tree, func() string { return "tool v1" })
	c.SetOut(&out)
	c.SetErr(&out)
	c.SetArgs([]string{dir})
	if err := c.Execute(); err == nil || !strings.Contains(err.Error(), "could not parse --date") {
		t.Errorf("no --date: %v", err)
	}
}
