package tokenhelper

import (
	"bytes"
	"debug/buildinfo"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

func findClient() (*Client, error) {
	pid := os.Getppid()
	for i := 0; i < maxAncestors; i++ {
		if pid <= 1 {
			return nil, fmt.Errorf("could not find the process that runs the token helper: no program but shells above it")
		}
		dir := "/proc/" + strconv.Itoa(pid)
		exe, err := os.Readlink(dir + "/exe")
		if err != nil {
			return nil, fmt.Errorf("could not read the program of process %d: %w", pid, err)
		}
		exe = strings.TrimSuffix(exe, " (deleted)")
		if !shells[filepath.Base(exe)] {
			c, err := readClient(pid, exe)
			if err != nil || len(c.Args) == 0 || c.Args[0] != "-c" {
				return c, err
			}
			// `$SHELL -c "<script> get"` with a shell of another name:
			// pass it as a shell.
		}
		if pid, err = parentOf(dir); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("could not find the process that runs the token helper: more than %d shells above it", maxAncestors)
}

func readClient(pid int, exe string) (*Client, error) {
	dir := "/proc/" + strconv.Itoa(pid)
	cmdline, err := os.ReadFile(dir + "/cmdline")
	if err != nil {
		return nil, fmt.Errorf("could not read the command line of process %d: %w", pid, err)
	}
	environ, err := os.ReadFile(dir + "/environ")
	if err != nil {
		return nil, fmt.Errorf("could not read the environment of process %d: %w", pid, err)
	}
	argv := split(cmdline)
	if len(argv) == 0 {
		return nil, fmt.Errorf("could not read the command line of process %d: it is empty", pid)
	}
	c := &Client{PID: pid, Exe: exe, Args: argv[1:], Env: split(environ)}
	// Through /proc/PID/exe, the file the process runs, even one
	// replaced or deleted since.
	if bi, err := buildinfo.ReadFile(dir + "/exe"); err == nil {
		c.Program = bi.Path
	}
	return c, nil
}

func split(b []byte) []string {
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return nil
	}
	return strings.Split(string(b), "\x00")
}

func parentOf(dir string) (int, error) {
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return 0, fmt.Errorf("could not read %s/stat: %w", dir, err)
	}
	// pid (comm) state ppid ...: comm may hold spaces and ')'.
	j := bytes.LastIndexByte(stat, ')')
	if j < 0 {
		return 0, fmt.Errorf("could not read %s/stat: no ')'", dir)
	}
	f := strings.Fields(string(stat[j+1:]))
	if len(f) < 2 {
		return 0, fmt.Errorf("could not read %s/stat: too short", dir)
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return 0, fmt.Errorf("could not read %s/stat: %w", dir, err)
	}
	return ppid, nil
}
