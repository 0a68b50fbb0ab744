package main

import "runtime"

// shellCommand is what `alilogin exec` runs when given no command: the
// user's $SHELL, as aws-vault does; without one /bin/sh (on Windows
// %ComSpec%, else cmd.exe). The shell starts with the profile's
// environment; leaving it ends the exec.
func shellCommand(getenv func(string) string, goos string) []string {
	if s := getenv("SHELL"); s != "" {
		return []string{s}
	}
	if goos == "windows" {
		if s := getenv("ComSpec"); s != "" {
			return []string{s}
		}
		return []string{"cmd.exe"}
	}
	return []string{"/bin/sh"}
}

// defaultCommand is shellCommand on this system.
func (e *cmdEnv) defaultCommand() []string { return shellCommand(e.getenv, runtime.GOOS) }
