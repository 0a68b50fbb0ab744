package testutil

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFencedBlocks: each fenced block with its info string, its text
// without the fence's indentation and the line of its fence; the
// runnable marker names the block right after it (blank lines between
// them allowed), and no block after a line of other text.
func TestFencedBlocks(t *testing.T) {
	md := "# Title\n" +
		"<!-- runnable: first -->\n" +
		"\n" +
		"```sh\n" +
		"echo one\n" +
		"```\n" +
		"<!-- runnable: lost -->\n" +
		"Some text.\n" +
		"```bash\n" +
		"echo two\n" +
		"```\n" +
		"1. A step:\n" +
		"   ```fish\n" +
		"   echo three\n" +
		"     indented\n" +
		"   ```\n"
	path := filepath.Join(t.TempDir(), "doc.md")
	if err := os.WriteFile(path, []byte(md), 0o600); err != nil {
		t.Fatal(err)
	}
	want := []Block{
		{Lang: "sh", Name: "first", Text: "echo one\n", Line: 4},
		{Lang: "bash", Text: "echo two\n", Line: 9},
		{Lang: "fish", Text: "echo three\n  indented\n", Line: 13},
	}
	if diff := cmp.Diff(want, FencedBlocks(t, path)); diff != "" {
		t.Errorf("blocks (-want +got):\n%s", diff)
	}
}
