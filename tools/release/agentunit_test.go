package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// checkAgentUnit: the installed systemd user unit of the agent is the
// repository's, runs `alilogin agent run` from /usr/bin with the
// hardening a user manager applies, and systemd-analyze accepts it
// (pointed at a stand-in executable: the private root's alilogin is not
// at /usr/bin).
func checkAgentUnit(t *testing.T, installed string) {
	t.Helper()
	got, err := os.ReadFile(installed)
	if err != nil {
		t.Fatalf("the agent's unit: %v", err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", agentUnitSrc))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("installed %s differs from %s", installed, agentUnitSrc)
	}
	unit := string(got)
	for _, l := range []string{"ExecStart=/usr/bin/alilogin agent run", "Environment=GODEBUG=schedtrace=2147483647", "Restart=on-failure", "NoNewPrivileges=yes", "PrivateTmp=no",
		"LimitCORE=0", "MemoryDenyWriteExecute=yes", "WantedBy=default.target"} {
		if !strings.Contains("\n"+unit+"\n", "\n"+l+"\n") {
			t.Errorf("the agent's unit lacks %q", l)
		}
	}
	dir := t.TempDir()
	stand := filepath.Join(dir, "alilogin")
	if err := os.WriteFile(stand, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "alilogin-agent.service")
	if err := os.WriteFile(f, []byte(strings.ReplaceAll(unit, "/usr/bin/alilogin", stand)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("systemd-analyze", "verify", "--man=no", f).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
