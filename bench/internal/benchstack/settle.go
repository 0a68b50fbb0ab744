package benchstack

import "os/exec"

// Settle puts each program the benchmarks time in the state of an
// installed one: its pages written to disk and dropped from the page
// cache, then run once, so that it was read the way a program installed
// earlier is read, whatever wrote it. Measured here, the same bytes
// started 1.7 ms apart (alilogin, of 12-14 ms) and 40 ms apart (vault, of
// 150 ms) depending on how the file had come into the page cache: a
// binary the linker has just written through a mapping starts slower
// than a copy, a vault binary cached long ago faster. Without it a
// ratio of two programs measures their files' history.
func Settle(paths ...string) error {
	for _, p := range paths {
		if err := dropCache(p); err != nil {
			return err
		}
		// The first run reads the file back, as a first run after
		// install does.
		_ = exec.Command(p, "version").Run()
	}
	return nil
}
