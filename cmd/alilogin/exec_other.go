//go:build !unix

package main

import (
	"os"
	"os/exec"
	"os/signal"
)

// execCommand runs the command as a child, passes the interrupt on, and
// exits with its exit code (Windows has no exec).
func execCommand(path string, argv, env []string) error {
	cmd := exec.Command(path, argv[1:]...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return childExit(err)
	}
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	err := cmd.Wait()
	if err == nil {
		return nil
	}
	return childExit(err)
}
