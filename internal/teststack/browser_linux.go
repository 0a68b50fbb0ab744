package teststack

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/chromedp/chromedp"
)

// NewBrowserAs starts a fresh headless Chromium as another local user
// (uid and gid, no supplementary groups), with its own profile and HOME
// owned by that user: the browser of another user of a shared host, whose
// connections to loopback belong to that uid. Only root can start it.
func NewBrowserAs(uid, gid uint32) (*Browser, error) {
	cred := &syscall.Credential{Uid: uid, Gid: gid, Groups: []uint32{}}
	return newBrowser(func(dataDir string) ([]chromedp.ExecAllocatorOption, error) {
		// The profile and a HOME (Chromium writes ~/.config, ~/.cache,
		// ~/.pki) belong to that user; the directory above them is 0711.
		home := filepath.Join(dataDir, "home")
		profile := filepath.Join(dataDir, "profile")
		for _, d := range []string{home, profile} {
			if err := os.Mkdir(d, 0o700); err != nil {
				return nil, err
			}
			if err := os.Chown(d, int(uid), int(gid)); err != nil {
				return nil, fmt.Errorf("could not give a browser profile to uid %d: %w", uid, err)
			}
		}
		if err := os.Chmod(dataDir, 0o711); err != nil {
			return nil, err
		}
		return []chromedp.ExecAllocatorOption{
			chromedp.UserDataDir(profile),
			chromedp.Env("HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_CACHE_HOME="+filepath.Join(home, ".cache")),
			chromedp.ModifyCmdFunc(func(cmd *exec.Cmd) {
				// Replaces chromedp's own, which sets the parent-death signal.
				cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
			}),
		}, nil
	})
}
