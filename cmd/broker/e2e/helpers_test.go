package e2e

import (
	"os"
	"path/filepath"
	"testing"
)

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func removeDir(t *testing.T, dir, sub string) {
	t.Helper()
	if err := os.RemoveAll(filepath.Join(dir, sub)); err != nil {
		t.Fatal(err)
	}
}
