package tokenhelper

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/testutil"
)

// TestScriptRefusesReplaceableBinary: the helper script checks, each
// time before it runs alilogin, what setup checked: a binary or a
// directory of it that became writable by group or others since setup
// (where another user could have replaced it) is not run; the script
// exits non-zero, says why on stderr and prints nothing on stdout, which
// the vault CLI would take for the token. As root, another user (65534)
// replaces the binary in a directory opened up after setup, and a binary
// handed to another user is refused too.
func TestScriptRefusesReplaceableBinary(t *testing.T) {
	type setup func(t *testing.T, bindir, bin string)
	chmod := func(mode os.FileMode, dir bool) setup {
		return func(t *testing.T, bindir, bin string) {
			p := bin
			if dir {
				p = bindir
			}
			if err := os.Chmod(p, mode); err != nil {
				t.Fatal(err)
			}
		}
	}
	cases := map[string]setup{
		"directory group-writable": chmod(0o775, true),
		"directory other-writable": chmod(0o757, true),
		"binary group-writable":    chmod(0o775, false),
		"binary other-writable":    chmod(0o757, false),
	}
	if os.Geteuid() == 0 {
		cases["replaced by another user"] = func(t *testing.T, bindir, bin string) {
			if err := os.Chmod(bindir, 0o777); err != nil {
				t.Fatal(err)
			}
			evil := "mv " + bin + " " + bin + ".old && printf '#!/bin/sh\\necho attacker code\\n' > " + bin + " && chmod 755 " + bin
			if out, err := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c", evil).CombinedOutput(); err != nil {
				t.Fatalf("the other user: %v %s", err, out)
			}
		}
		cases["binary of another user"] = func(t *testing.T, bindir, bin string) {
			if err := os.Chown(bin, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}
		cases["directory of another user"] = func(t *testing.T, bindir, bin string) {
			if err := os.Chown(bindir, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}
	} else if os.Getenv("CI") == "true" {
		t.Fatal("this test runs a process as another uid and needs root; CI runs as root")
	}
	run := func(t *testing.T, change setup) (stdout, stderr string, err error) {
		top := testutil.ShortTempDir(t, "helper-binary-", 0o755)
		bindir := filepath.Join(top, "bin")
		bin := filepath.Join(bindir, "alilogin")
		if err := os.Mkdir(bindir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bin, []byte("#!/bin/sh\necho real alilogin \"$@\"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		real, err := binaryAt(bin, mineOrRoot)
		if err != nil {
			t.Fatalf("setup refused a safe binary: %v", err)
		}
		script := filepath.Join(top, "helper")
		if err := os.WriteFile(script, Script([]string{real}), 0o700); err != nil {
			t.Fatal(err)
		}
		if change != nil {
			change(t, bindir, bin)
		}
		var o, e strings.Builder
		cmd := exec.Command(script, "get")
		cmd.Stdout, cmd.Stderr = &o, &e
		err = cmd.Run()
		return o.String(), e.String(), err
	}
	if out, _, err := run(t, nil); err != nil || out != "real alilogin vault-token-helper get\n" {
		t.Fatalf("a safe binary: %q, %v", out, err)
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			out, errOut, err := run(t, change)
			if err == nil || out != "" {
				t.Errorf("the script ran the binary: stdout %q, %v", out, err)
			}
			if !strings.Contains(errOut, "alilogin token helper:") || !strings.Contains(errOut, "that only root or you can replace") {
				t.Errorf("stderr %q does not say why", errOut)
			}
		})
	}
}
