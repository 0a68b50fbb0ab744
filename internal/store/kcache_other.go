//go:build !linux

package store

// systemKeyctl: the kernel cache is Linux only (kcache_linux.go);
// elsewhere it is disabled.
func systemKeyctl() keyctlOps { return nil }

// readSmall: no kernel cache, no generations.
func readSmall(string, []byte) (int, bool) { return 0, false }
