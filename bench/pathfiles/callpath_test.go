package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ranBlocks are coverage blocks, as ran reads them, that cover the named
// functions ("file:Func") of the tree.
func ranBlocks(t *testing.T, tree string, funcs ...string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, fn := range funcs {
		file, name, _ := strings.Cut(fn, ":")
		b, err := os.ReadFile(filepath.Join(tree, file))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		from := -1
		for i, l := range lines {
			if strings.HasPrefix(l, "func "+name+"(") || strings.HasPrefix(l, "func (") && strings.Contains(l, ") "+name+"(") {
				from = i
				break
			}
		}
		if from < 0 {
			t.Fatalf("no func %s in %s", name, file)
		}
		until := from
		for !strings.HasSuffix(lines[until], "}") {
			until++
		}
		out[file+":"+strconv.Itoa(from+1)+".1,"+strconv.Itoa(until+1)+".1"] = true
	}
	return out
}

// The call path is the shortest chain in files from the command to the
// I/O, through what ran: a function that did not run is no way, an
// interface call goes to the type that reaches it, and a sink that did
// not run is no path.
func TestCallPathTakesTheFewestFilesThroughWhatRan(t *testing.T) {
	tree := filepath.Join("testdata", "tree")
	p, err := loadProgram(tree)
	if err != nil {
		t.Fatal(err)
	}
	all := []string{"cmd/alilogin/main.go:runToken", "internal/x/x.go:Direct", "internal/x/x.go:Long",
		"internal/x/other.go:other", "internal/x/other.go:Sink", "internal/y/y.go:Read", "internal/y/y.go:Write"}
	files := func(blocks map[string]bool, sinks ...string) map[string][]string {
		t.Helper()
		cps, err := p.paths(blocks, "cmd/alilogin.runToken", sinks)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]string{}
		for _, cp := range cps {
			out[cp.sink] = cp.files
		}
		return out
	}
	got := files(ranBlocks(t, tree, all...), "internal/y.Read", "internal/y.Write")
	want := map[string][]string{
		"internal/y.Read":  {"cmd/alilogin/main.go", "internal/x/x.go", "internal/y/y.go"},
		"internal/y.Write": {"cmd/alilogin/main.go", "internal/x/other.go", "internal/y/y.go"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("everything ran (-want +got):\n%s", d)
	}
	// Direct did not run: the read is reached through Long and other.
	got = files(ranBlocks(t, tree, "cmd/alilogin/main.go:runToken", "internal/x/x.go:Long", "internal/x/other.go:other", "internal/y/y.go:Read"),
		"internal/y.Read", "internal/y.Write")
	want = map[string][]string{"internal/y.Read": {"cmd/alilogin/main.go", "internal/x/x.go", "internal/x/other.go", "internal/y/y.go"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Direct and Write did not run (-want +got):\n%s", d)
	}
	if _, err := p.paths(ranBlocks(t, tree, "internal/y/y.go:Read"), "cmd/alilogin.runToken", []string{"internal/y.Read"}); err == nil {
		t.Error("a command that did not run has a call path")
	}
}
