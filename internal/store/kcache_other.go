//go:build !linux

package store

// systemKeyctl: the kernel cache is Linux only (kcache_linux.go);
// elsewhere it is disabled.
func systemKeyctl() keyctlOps { return nil }

// statGen: no kernel cache, no generations.
func statGen(string) Gen { return "" }
