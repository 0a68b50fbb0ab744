package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCommandLinksNoHeavyInit: every alilogin command, `token` included,
// runs the package init of everything the binary links. These packages
// compile regular expressions or build tables at init and have a lighter
// stand-in (hclsyntax for hclwrite and gohcl; go-cmp only in tests).
func TestCommandLinksNoHeavyInit(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/alisw/alilogin/cmd/alilogin").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	heavy := []string{
		"github.com/google/go-cmp/cmp",
		"github.com/hashicorp/hcl/v2/hclwrite",
		"github.com/hashicorp/hcl/v2/gohcl",
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, h := range heavy {
			if dep == h {
				t.Errorf("alilogin links %s: its init runs in every command", dep)
			}
		}
	}
}
