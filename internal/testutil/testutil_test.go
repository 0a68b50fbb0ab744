package testutil

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestHome: every directory of the home is below one temporary HOME, the
// runtime directory exists and is private, the store is the file store
// without the kernel cache, and vars add, replace and remove variables.
func TestHome(t *testing.T) {
	env := Home(t, map[string]string{"VAULT_ADDR": "https://vault.example:8200", "ALILOGIN_STORE": "keyring", "ALILOGIN_KERNEL_CACHE": ""})
	home := env["HOME"]
	for _, k := range []string{"XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR"} {
		if !strings.HasPrefix(env[k], home+string(filepath.Separator)) {
			t.Errorf("%s = %q, not below HOME %q", k, env[k], home)
		}
	}
	if fi, err := os.Stat(env["XDG_RUNTIME_DIR"]); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("runtime directory: %v, %v; want a 0700 directory", fi, err)
	}
	if env["VAULT_ADDR"] != "https://vault.example:8200" || env["ALILOGIN_STORE"] != "keyring" {
		t.Errorf("vars not applied: %v", env)
	}
	if _, ok := env["ALILOGIN_KERNEL_CACHE"]; ok {
		t.Errorf("ALILOGIN_KERNEL_CACHE kept though vars removed it: %v", env)
	}
	if Home(t, nil)["ALILOGIN_STORE"] != "file" || Home(t, nil)["ALILOGIN_KERNEL_CACHE"] != "off" {
		t.Error("the default home does not use the file store without the kernel cache")
	}
}

// TestShortTempDir: the directory is directly under the system's
// temporary directory, named with the prefix, with the mode asked for, short enough for a unix
// socket's path in it, and gone when its test has ended.
func TestShortTempDir(t *testing.T) {
	var dir string
	t.Run("make", func(t *testing.T) {
		dir = ShortTempDir(t, "tu", 0o711)
		if filepath.Dir(dir) != filepath.Clean(os.TempDir()) || !strings.HasPrefix(filepath.Base(dir), "tu") {
			t.Errorf("ShortTempDir = %q; want tu* directly under %q", dir, os.TempDir())
		}
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			t.Fatalf("not a directory: %v", err)
		} else if fi.Mode().Perm() != 0o711 {
			t.Errorf("mode %v, want the one asked for, 0711", fi.Mode().Perm())
		}
		if n := len(filepath.Join(dir, "agent.sock")); n > 107 {
			t.Errorf("a socket path in it is %d bytes; a unix socket's holds at most 107", n)
		}
	})
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s after its test ended: %v; want removed", dir, err)
	}
}

// TestEventuallySeesBriefCondition: a condition that holds for one
// moment of 50 ms is seen, and one that never holds is given up on after
// the time asked for.
func TestEventuallySeesBriefCondition(t *testing.T) {
	var n atomic.Int32
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				n.Add(1)
			}
		}
	}()
	if !Eventually(5*time.Second, func() bool { return n.Load() == 3 }) {
		t.Error("the counter at exactly 3 was not seen")
	}
	t0 := time.Now()
	if Eventually(100*time.Millisecond, func() bool { return false }) {
		t.Error("a condition that never holds was reported true")
	}
	if d := time.Since(t0); d < 100*time.Millisecond || d > 2*time.Second {
		t.Errorf("gave up after %s, want about 100ms", d)
	}
}

// TestEventuallyEveryAsksAtItsInterval: a condition that is costly to
// ask is asked about once per interval, not every 10 ms, and still seen.
func TestEventuallyEveryAsksAtItsInterval(t *testing.T) {
	var asked atomic.Int32
	t0 := time.Now()
	ok := EventuallyEvery(5*time.Second, 100*time.Millisecond, func() bool {
		return asked.Add(1) == 4
	})
	if !ok {
		t.Fatal("the fourth answer, true, was not seen")
	}
	if d := time.Since(t0); d < 300*time.Millisecond {
		t.Errorf("4 asks took %s, want 3 intervals of 100ms at least", d)
	}
	t0 = time.Now()
	asked.Store(0)
	EventuallyEvery(350*time.Millisecond, 100*time.Millisecond, func() bool { asked.Add(1); return false })
	if n := asked.Load(); n < 3 || n > 6 {
		t.Errorf("asked %d times in 350ms at a 100ms interval, want about 4", n)
	}
}
