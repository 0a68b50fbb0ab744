//go:build unix

package agent

import (
	"fmt"
	"io/fs"
	"syscall"
)

func checkOwner(fi fs.FileInfo, uid int) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("its owner is unknown")
	}
	if int(st.Uid) != uid {
		return fmt.Errorf("it belongs to uid %d, not %d", st.Uid, uid)
	}
	return nil
}
