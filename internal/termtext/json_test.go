package termtext

import (
	"encoding/json"
	"testing"
)

func TestEscapeJSON(t *testing.T) {
	in := "a\u009b2J\u202e\u007f\U000e0041b é"
	raw, err := json.Marshal(map[string]string{"k": in})
	if err != nil {
		t.Fatal(err)
	}
	got := EscapeJSON(raw)
	if Clean(got) != got {
		t.Errorf("EscapeJSON left unsafe runes: %q", got)
	}
	var back map[string]string
	if err := json.Unmarshal([]byte(got), &back); err != nil || back["k"] != in {
		t.Errorf("EscapeJSON changed the JSON: %q (%v) from %q", back["k"], err, in)
	}
}
