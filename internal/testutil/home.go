package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// Home makes a throw-away home for one test under t.TempDir and returns
// the environment that points alilogin at it: HOME, XDG_CONFIG_HOME
// (home/config), XDG_STATE_HOME (home/state) and XDG_RUNTIME_DIR
// (home/run, made private, as a login session's is), the file store and
// no kernel cache, so that a test reads and writes nothing of the user
// who runs it. vars adds or replaces variables; a value "" removes one.
func Home(t testing.TB, vars map[string]string) map[string]string {
	t.Helper()
	home := t.TempDir()
	run := filepath.Join(home, "run")
	if err := os.Mkdir(run, 0o700); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"HOME":                  home,
		"XDG_CONFIG_HOME":       filepath.Join(home, "config"),
		"XDG_STATE_HOME":        filepath.Join(home, "state"),
		"XDG_RUNTIME_DIR":       run,
		"ALILOGIN_STORE":        "file",
		"ALILOGIN_KERNEL_CACHE": "off",
	}
	for k, v := range vars {
		if v == "" {
			delete(env, k)
			continue
		}
		env[k] = v
	}
	return env
}

// Getenv reads env as os.Getenv reads the process's environment.
func Getenv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// ShortTempDir makes a directory directly under the system's temporary
// directory, named prefix and a random suffix, and removes it when the
// test ends. Unlike t.TempDir's, its path is short (a unix socket's path
// holds at most 107 bytes) and its parent is not private to the test, so
// another user (nobody) can be let in.
func ShortTempDir(t testing.TB, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
