package store

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// watched is profile p's generation file in a state directory of the
// test's, with the agent's Watcher of it.
type watched struct {
	state   string
	getenv  func(string) string
	path    string // the generation file
	g       generations
	current func() Gen // the Watcher
	want    func(step string)
}

func newWatched(t *testing.T) *watched {
	t.Helper()
	w := &watched{state: t.TempDir()}
	w.getenv = func(k string) string {
		if k == "XDG_STATE_HOME" {
			return w.state
		}
		return ""
	}
	path, _, ok := Watch(w.getenv, "p")
	if !ok {
		t.Fatal("Watch: not supported here")
	}
	w.path, w.g = path, generations{dir: filepath.Dir(path)}
	if w.current, ok = Watcher(w.getenv, "p"); !ok {
		t.Fatal("Watcher: not supported here")
	}
	// want fails t when the Watcher does not answer what the file
	// holds now, after step.
	w.want = func(step string) {
		t.Helper()
		_, gen, _ := Watch(w.getenv, "p")
		if got := w.current(); got != gen {
			t.Fatalf("%s: Watcher says %q, the file holds %q", step, got, gen)
		}
	}
	return w
}

// TestWatcherSeesEveryGenerationChange: the agent's generation reader
// (Watcher) answers what the file holds right after each change made
// the way alilogin makes them (a bump replaces the file; a removal; the
// kcache directory removed and made again; a directory that did not
// exist at first), with no wait.
func TestWatcherSeesEveryGenerationChange(t *testing.T) {
	w := newWatched(t)
	path, g, want := w.path, w.g, w.want
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

// TestWatcherSeesChangesAfterTheDirectoryIsMovedAway: the kcache
// directory renamed away (a backup, a restore, a tool that swaps
// directories) and made again at its path: the watch stays on the moved
// directory (IN_MOVE_SELF drops no watch), so every later change in the
// new kcache directory, a logout's bump among them, must still be seen.
func TestWatcherSeesChangesAfterTheDirectoryIsMovedAway(t *testing.T) {
	w := newWatched(t)
	g, want := w.g, w.want
	if err := os.MkdirAll(g.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := g.bump("p"); err != nil {
		t.Fatal(err)
	}
	want("first bump")
	if err := os.Rename(g.dir, g.dir+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(g.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := g.bump("p"); err != nil {
		t.Fatal(err)
	}
	want("the directory moved away and made again")
	if _, err := g.bump("p"); err != nil {
		t.Fatal(err)
	}
	want("a bump in the new directory (a logout)")
}

// TestWatcherSeesChangesAfterTheDirectoryIsReplacedByASymlink: kcache
// moved away and replaced by a symlink to a copy of it: the bumps made
// through the symlink (a logout's among them) must be seen, not the
// copy's generation kept.
func TestWatcherSeesChangesAfterTheDirectoryIsReplacedByASymlink(t *testing.T) {
	w := newWatched(t)
	state, g, want := w.state, w.g, w.want
	if err := os.MkdirAll(g.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := g.bump("p"); err != nil {
		t.Fatal(err)
	}
	want("first bump")
	other := filepath.Join(state, "elsewhere")
	if err := os.Mkdir(other, 0o700); err != nil {
		t.Fatal(err)
	}
	// A copy of the directory (cp -a), then swapped in by a symlink.
	if _, err := (generations{dir: other}).bump("p"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(g.dir, g.dir+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(other, g.dir); err != nil {
		t.Fatal(err)
	}
	want("replaced by a symlink")
	for i := range 3 {
		if _, err := g.bump("p"); err != nil {
			t.Fatal(err)
		}
		want("a bump through the symlink " + string(rune('a'+i)))
	}
}

// TestWatcherSeesChangesWithoutInotifyEvents: inotify reports only the
// changes made through this kernel's file system calls (inotify(7),
// "Limitations and caveats"): a logout on another host of a home on AFS
// or NFS (lxplus; the state directory defaults to ~/.local/state) writes
// the generation file with no event here, where the old per-request read
// saw it. Stand-in for the other host: a write through a shared mapping,
// which inotify does not report either, in a directory the watcher takes
// for a network file system (remoteFS, statfs's type). The agent must
// still see the new generation, or its gates live on after the logout.
func TestWatcherSeesChangesWithoutInotifyEvents(t *testing.T) {
	local := remoteFS
	remoteFS = func(string) bool { return true }
	t.Cleanup(func() { remoteFS = local })
	w := newWatched(t)
	getenv, path, g, current := w.getenv, w.path, w.g, w.current
	if err := os.MkdirAll(g.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := g.bump("p"); err != nil {
		t.Fatal(err)
	}
	_, before, _ := Watch(getenv, "p")
	if got := current(); got != before {
		t.Fatalf("first bump: Watcher says %q, the file holds %q", got, before)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := unix.Mmap(int(f.Fd()), 0, genLen, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	copy(m, "0123456789abcdef0123456789abcdef")
	if err := unix.Munmap(m); err != nil {
		t.Fatal(err)
	}
	_, after, _ := Watch(getenv, "p")
	if after == before {
		t.Fatalf("the write through the mapping changed nothing: %q", after)
	}
	if got := current(); got != after {
		t.Fatalf("a change with no inotify event (another host's logout): Watcher says %q, the file holds %q", got, after)
	}
}
