// Package userdir finds alilogin's per-user directories where each OS
// expects them: the configuration (the config file, the cached discovery
// document) and the state (stored logins in the file store, lock files);
// and says which user owns a file (Owner: the one place that reads a
// stat's uid, for the checks of the agent's directory, certificate
// folders, the token helper and secret files).
// Everything is read through a getenv function, so tests point it
// elsewhere.
//
// It is not where files are written or locked: the store, the config and the
// lock use the paths it gives.
//
// Config is not os.UserConfigDir, though it gives the same directory in
// the common cases (XDG_CONFIG_HOME when absolute, else ~/.config; the
// macOS and Windows places), for three differences: it reads through
// getenv, so that tests and a command given another environment resolve
// their own directories, where os reads the process environment; a
// relative XDG_CONFIG_HOME is ignored, as the XDG Base Directory
// specification says, where os fails with "path in $XDG_CONFIG_HOME is
// relative"; and its error says what to do in the project's words
// ("could not find the user config directory: HOME is not set"). The
// standard library has no state directory, so State and Config share one
// rule (dir).
package userdir

// NoUID is the uid Owner gives when it does not know one: no user's, and
// not the -1 that os.Getuid returns where there are no uids.
const NoUID = -2
