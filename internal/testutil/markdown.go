package testutil

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"
)

// Block is a fenced block of a Markdown file.
type Block struct {
	Lang string // the fence's info string: sh, bash, fish, cron, ...
	Name string // of its runnable marker; "" when it has none
	Text string // without the fence's indentation
	Line int    // of the opening fence
}

// runnableMarker is the line `<!-- runnable: NAME -->` (an HTML comment,
// not shown on the rendered page) that marks the next fenced block as an
// example the tests run as written (docs/development.md).
var runnableMarker = regexp.MustCompile(`^<!-- runnable: ([a-z0-9-]+) -->$`)

// FencedBlocks reads the fenced blocks of the Markdown file at path; a
// block's Name is that of the runnable marker on the last non-blank line
// before its fence. t fails at once when the file cannot be read or a
// block is not closed.
func FencedBlocks(t testing.TB, path string) []Block {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out    []Block
		cur    *Block
		indent string
		marker string // of the last non-blank line before a fence
		body   strings.Builder
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```"):
			cur = &Block{Lang: strings.TrimPrefix(trimmed, "```"), Name: marker, Line: n}
			indent = line[:len(line)-len(strings.TrimLeft(line, " "))]
			body.Reset()
		case cur != nil && trimmed == "```":
			cur.Text = body.String()
			out = append(out, *cur)
			cur = nil
			marker = ""
		case cur != nil:
			body.WriteString(strings.TrimPrefix(line, indent) + "\n")
		case trimmed != "":
			marker = ""
			if m := runnableMarker.FindStringSubmatch(trimmed); m != nil {
				marker = m[1]
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%s:%d: a fenced block is not closed", path, cur.Line)
	}
	return out
}
