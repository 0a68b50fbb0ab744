package agent

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/alisw/alilogin/internal/atomicfile"
)

// The gates file of a profile changes whenever its gates die: written
// with new random content when the profile is first opened in this
// agent, removed when it is dropped and when the agent stops (or
// starts, after one that died). The shell hook's agent mode watches it
// with the shell's read builtin.
func (a *Agent) gatesPath(profile string) string { return filepath.Join(a.o.Dir, profile+genSuffix) }

func (a *Agent) gatesFile(profile string) (string, string, error) {
	p := a.gatesPath(profile)
	if b, err := os.ReadFile(p); err == nil && strings.HasPrefix(string(b), a.instance) {
		return p, strings.TrimSpace(string(b)), nil
	}
	r := make([]byte, 8)
	if _, err := rand.Read(r); err != nil {
		return "", "", err
	}
	gen := a.instance + "-" + hex.EncodeToString(r)
	if err := atomicfile.Write(p, []byte(gen+"\n")); err != nil {
		return "", "", fmt.Errorf("could not write the gates file of profile %s: %w", profile, err)
	}
	return p, gen, nil
}

func (a *Agent) removeGatesFiles() {
	m, _ := filepath.Glob(filepath.Join(a.o.Dir, "*"+genSuffix))
	for _, f := range m {
		_ = os.Remove(f)
	}
}
