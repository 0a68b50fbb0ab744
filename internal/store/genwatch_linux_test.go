package store

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWatcherSeesEveryGenerationChange: the agent's generation reader
// (Watcher) answers what the file holds right after each change made
// the way alilogin makes them (a bump replaces the file; a removal; the
// kcache directory removed and made again; a directory that did not
// exist at first), with no wait.
func TestWatcherSeesEveryGenerationChange(t *testing.T) {
	state := t.TempDir()
	getenv := func(k string) string {
		if k == "XDG_STATE_HOME" {
			return state
		}
		return ""
	}
	path, _, ok := Watch(getenv, "p")
	if !ok {
		t.Fatal("Watch: not supported here")
	}
	g := generations{dir: filepath.Dir(path)}
	current, ok := Watcher(getenv, "p")
	if !ok {
		t.Fatal("Watcher: not supported here")
	}
	want := func(step string) {
		t.Helper()
		_, gen, _ := Watch(getenv, "p")
		if got := current(); got != gen {
			t.Fatalf("%s: Watcher says %q, the file holds %q", step, got, gen)
		}
	}
	want("no directory")
	if err := os.MkdirAll(g.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	want("an empty directory")
	for i := range 50 {
		if _, err := g.bump("p"); err != nil {
			t.Fatal(err)
		}
		want("bump " + string(rune('a'+i%26)))
		want("again, unchanged")
	}
	if _, err := g.bump("other"); err != nil {
		t.Fatal(err)
	}
	want("another profile's bump")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	want("the file removed")
	if _, err := g.bump("p"); err != nil {
		t.Fatal(err)
	}
	want("written again")
	if err := os.RemoveAll(g.dir); err != nil {
		t.Fatal(err)
	}
	want("the directory removed")
	if err := os.MkdirAll(g.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := g.bump("p"); err != nil {
		t.Fatal(err)
	}
	want("the directory made again")
	want("the directory made again, unchanged")
	// Written in place (not alilogin's way): seen too.
	if err := os.WriteFile(path, []byte("0123456789abcdef0123456789abcdef"), 0o600); err != nil {
		t.Fatal(err)
	}
	want("written in place")

}
