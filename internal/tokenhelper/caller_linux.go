package tokenhelper

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

func callerArgs() ([]string, bool) {
	pid := os.Getppid()
	for i := 0; i < maxAncestors && pid > 1; i++ {
		dir := "/proc/" + strconv.Itoa(pid)
		raw, err := os.ReadFile(dir + "/cmdline")
		if err != nil {
			return nil, false
		}
		argv := strings.Split(string(bytes.TrimRight(raw, "\x00")), "\x00")
		exe, _ := os.Readlink(dir + "/exe")
		if len(argv) > 0 && (filepath.Base(argv[0]) == "vault" || filepath.Base(exe) == "vault") {
			return argv[1:], true
		}
		stat, err := os.ReadFile(dir + "/stat")
		if err != nil {
			return nil, false
		}
		// pid (comm) state ppid ...: comm may hold spaces and ')'.
		j := bytes.LastIndexByte(stat, ')')
		if j < 0 {
			return nil, false
		}
		f := strings.Fields(string(stat[j+1:]))
		if len(f) < 2 {
			return nil, false
		}
		if pid, err = strconv.Atoi(f[1]); err != nil {
			return nil, false
		}
	}
	return nil, false
}
