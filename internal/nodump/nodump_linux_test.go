package nodump

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestSetAndExec: Set clears the flag; a program started afterwards has it
// again (execve resets it), which `alilogin exec` relies on. The child is
// this test binary, asked to report its own flag.
func TestSetAndExec(t *testing.T) {
	if os.Getenv("NODUMP_REPORT") == "1" {
		d, err := Dumpable()
		if err != nil {
			t.Fatal(err)
		}
		if d {
			os.Stdout.WriteString("dumpable\n")
		} else {
			os.Stdout.WriteString("not dumpable\n")
		}
		return
	}
	if err := Set(); err != nil {
		t.Fatal(err)
	}
	if d, err := Dumpable(); err != nil || d {
		t.Fatalf("Dumpable() after Set = %v, %v", d, err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSetAndExec$")
	cmd.Env = append(os.Environ(), "NODUMP_REPORT=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), "dumpable\n") {
		t.Errorf("the exec'd child reports %q, want dumpable", out)
	}
}
