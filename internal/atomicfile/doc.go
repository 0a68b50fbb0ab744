// Package atomicfile writes small private files (stored logins, the config
// file, the cached discovery document) so that a reader sees the old
// content or the new, never a mix, and nobody but the user can read them:
// a 0600 temporary file in the same directory, synced, then renamed over
// the old one, in a directory created 0700. WriteUnsynced leaves out the
// sync, for files that need not survive a crash. ReadSmall reads such a
// file back with a bound, refusing a symlink, a FIFO or a device there
// without waiting on it.
package atomicfile
