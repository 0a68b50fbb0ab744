package cmdroot

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDocumentedCodes: the table in docs/commands.md#exit-codes lists
// exactly the codes of codes.go, each once.
func TestDocumentedCodes(t *testing.T) {
	b, err := os.ReadFile("../../docs/commands.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Exit codes\n")
	if !ok {
		t.Fatal("docs/commands.md has no '## Exit codes' section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	row := regexp.MustCompile(`(?m)^\| (\d+) \| (alilogin|broker|both) \|`)
	var got []int
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		n, _ := strconv.Atoi(m[1])
		got = append(got, n)
	}
	want := []int{OK, Failure, Usage, Partial, LoginNeeded, Changes, NoProfile, Mismatch, NotFound}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("codes in docs/commands.md (-codes.go +docs):\n%s", diff)
	}
}
