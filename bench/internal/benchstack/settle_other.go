//go:build !linux

package benchstack

// dropCache does nothing where the page cache cannot be asked to drop a
// file: the programs are timed as they are.
func dropCache(string) error { return nil }
