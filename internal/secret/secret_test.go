package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const value = "hvs.supersecretvalue"

// holder has the shapes a secret sits in across the code base: an exported
// field, an unexported one, a pointer and a slice.
type holder struct {
	Exported   String
	unexported String
	ptr        *String
	list       []String
}

func TestStringNeverShowsValue(t *testing.T) {
	s := New(value)
	h := holder{Exported: s, unexported: s, ptr: &s, list: []String{s}}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "token", s, "holder", h)
	j, err := json.Marshal(struct{ T String }{s})
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{"json": string(j), "slog": logs.String(), "Sprint": fmt.Sprint(s), "Sprintln": fmt.Sprintln(s, h)}
	verbs := []string{"%s", "%v", "%+v", "%#v", "%q", "%x", "%X", "%d", "%b", "%o", "%O", "%c", "%U", "%e", "%f", "%g", "%t",
		"%p", "%T", "%z", "%30s", "%-30s|", "%.3s", "%#x", "% x", "%+q", "%#q", "%08d", "%[1]s", "%!", "%v %v"}
	for _, verb := range verbs {
		for shape, arg := range map[string]any{"value": s, "pointer": &s, "holder": h, "holder pointer": &h, "slice": []String{s}, "map": map[string]String{"k": s}} {
			outputs[verb+" "+shape] = fmt.Sprintf(verb, arg)
		}
	}
	for name, out := range outputs {
		if strings.Contains(out, value) || strings.Contains(out, fmt.Sprintf("%x", value)) || strings.Contains(out, fmt.Sprintf("%X", value)) {
			t.Errorf("%s leaks the secret: %s", name, out)
		}
	}
	for _, name := range []string{"%s value", "%d value", "%x value", "%X value", "%+v holder", "json", "slog"} {
		if !strings.Contains(outputs[name], Redacted) {
			t.Errorf("%s does not say %s: %s", name, Redacted, outputs[name])
		}
	}
	for verb, want := range map[string]string{
		"%T": "secret.String", "%q": `"[REDACTED]"`, "%14s": "    [REDACTED]", "%-14s|": "[REDACTED]    |", "%.3s": Redacted,
	} {
		if got := fmt.Sprintf(verb, s); got != want {
			t.Errorf("Sprintf(%q) = %q, want %q", verb, got, want)
		}
	}
	if s.Reveal() != value {
		t.Errorf("Reveal() = %q", s.Reveal())
	}
}

func TestStringEmptyAndEqual(t *testing.T) {
	var zero String
	if !zero.Empty() || !New("").Empty() || zero.Reveal() != "" || fmt.Sprintf("%s|%d", zero, zero) != "|" {
		t.Error("the empty secret should be empty and print empty")
	}
	if !New("a").Equal(New("a")) || New("a").Equal(New("b")) || !zero.Equal(New("")) {
		t.Error("Equal compares values")
	}
	if diff := cmp.Diff(holder{Exported: New("a")}, holder{Exported: New("a")}, cmp.AllowUnexported(holder{})); diff != "" {
		t.Errorf("cmp.Diff of equal secrets: %s", diff)
	}
}

func TestStringUnmarshalJSON(t *testing.T) {
	var out struct {
		Token String `json:"token"`
		None  String `json:"none"`
	}
	if err := json.Unmarshal([]byte(`{"token":"`+value+`","none":null}`), &out); err != nil {
		t.Fatal(err)
	}
	if out.Token.Reveal() != value || !out.None.Empty() {
		t.Errorf("decoded %q and %q", out.Token.Reveal(), out.None.Reveal())
	}
	err := json.Unmarshal([]byte(`{"token":12345}`), &out)
	if err == nil || strings.Contains(err.Error(), "12345") {
		t.Errorf("a number decodes as a secret or shows in the error: %v", err)
	}
}
