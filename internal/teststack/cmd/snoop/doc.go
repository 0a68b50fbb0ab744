// Command snoop is what another user of a shared host sees: the
// end-to-end tests run it as that user (nobody) during a login. It reads
// every /proc/<pid>/cmdline and /proc/<pid>/environ it is allowed to, and
// prints one JSON line per file read ({"pid", "file", "text"}, the NUL
// separators turned into spaces), then a last line {"uid": N, "read": K}
// with its own uid and the number of files read. It reads, and prints,
// nothing else.
//
//	snoop
//
// It is not shipped, and it reads only what the kernel lets its uid read: it
// proves what leaks, it does not look for leaks itself.
package main
