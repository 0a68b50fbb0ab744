package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestWriteJSONEscapesControls: writeJSON's output is the same JSON as
// encoding/json's, with every control or text-reordering character
// escaped, so that it is safe on a terminal.
func TestWriteJSONEscapesControls(t *testing.T) {
	in := map[string][]string{"roles": {"plain", "esc\x1b]0;t\x07", "del\x7f", "c1\u009b31m", "bidi\u202e", "zw\u200b", "bom\ufeff", "é ✓ 日本"}}
	var b strings.Builder
	if err := writeJSON(&b, in); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, r := range out {
		if (r < 0x20 && r != '\n') || (r >= 0x7f && r < 0xa0) || r == 0x202e || r == 0x200b || r == 0xfeff {
			t.Errorf("output holds %U:\n%s", r, out)
		}
	}
	if !strings.Contains(out, `"del\u007f"`) || !strings.Contains(out, `"c1\u009b31m"`) || !strings.Contains(out, "é ✓ 日本") {
		t.Errorf("output:\n%s", out)
	}
	var back map[string][]string
	if err := json.Unmarshal([]byte(out), &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, back); diff != "" {
		t.Errorf("round trip (-in +out):\n%s", diff)
	}
}
