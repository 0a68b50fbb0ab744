package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestStringNeverShowsValue(t *testing.T) {
	const value = "hvs.supersecretvalue"
	s := String(value)
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "token", s)
	j, err := json.Marshal(struct{ T String }{s})
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%s":   fmt.Sprintf("%s", s),
		"%v":   fmt.Sprintf("%v", s),
		"%+v":  fmt.Sprintf("%+v", struct{ T String }{s}),
		"%#v":  fmt.Sprintf("%#v", s),
		"%q":   fmt.Sprintf("%q", s),
		"json": string(j),
		"slog": logs.String(),
	}
	for name, out := range outputs {
		if strings.Contains(out, value) {
			t.Errorf("%s leaks the secret: %s", name, out)
		}
		if !strings.Contains(out, Redacted) {
			t.Errorf("%s does not say %s: %s", name, Redacted, out)
		}
	}
	if s.Reveal() != value {
		t.Errorf("Reveal() = %q", s.Reveal())
	}
	if String("").String() != "" || !String("").Empty() {
		t.Error("empty secret should print empty")
	}
}
