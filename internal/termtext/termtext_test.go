package termtext

import (
	"errors"
	"fmt"
	"testing"
)

func TestClean(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "alice-ci-users", "alice-ci-users"},
		{"unicode kept", "Zoë Ørsted", "Zoë Ørsted"},
		{"title change", "\x1b]0;pwned\x07x", "?]0;pwned?x"},
		{"screen clear", "\x1b[2J\x1b[H", "?[2J?[H"},
		{"newline and CR", "a\nb\rc\td", "a?b?c?d"},
		{"DEL and C1", "a\x7fb\u009bc", "a?b?c"},
		{"bidi override", "abc\u202edcba", "abc?dcba"},
		{"zero width", "a\u200bb\ufeffc", "a?b?c"},
		{"invalid utf-8", "a\xffb", "a?b"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Clean(tt.in); got != tt.want {
				t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCleanAll(t *testing.T) {
	got := CleanAll([]string{"ok", "\x1b[31mred"})
	if got[0] != "ok" || got[1] != "?[31mred" {
		t.Errorf("CleanAll = %q", got)
	}
	if CleanAll(nil) != nil {
		t.Error("CleanAll(nil) is not nil")
	}
}

func FuzzClean(f *testing.F) {
	f.Add("\x1b]0;x\x07")
	f.Fuzz(func(t *testing.T, s string) {
		out := Clean(s)
		for _, r := range out {
			if unsafe(r) {
				t.Fatalf("Clean(%q) = %q keeps %U", s, out, r)
			}
		}
		if Clean(out) != out {
			t.Fatalf("Clean is not idempotent on %q", s)
		}
	})
}

func TestCleanLines(t *testing.T) {
	in := "first: \x1b]0;x\x07\nsecond\tok\r\u202e"
	if got, want := CleanLines(in), "first: ?]0;x?\nsecond\tok??"; got != want {
		t.Errorf("CleanLines(%q) = %q, want %q", in, got, want)
	}
}

func TestError(t *testing.T) {
	inner := errors.New("500: \x1b[2Jgone")
	err := fmt.Errorf("could not read: %w", Error(inner))
	if got, want := err.Error(), "could not read: 500: ?[2Jgone"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, inner) {
		t.Error("errors.Is does not see the wrapped error")
	}
	if Error(nil) != nil {
		t.Error("Error(nil) is not nil")
	}
}

func TestCut(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"abcdef", 3, "abc~"},
		{"abc", 3, "abc"},
		{"ab\u00e9cd", 3, "ab\u00e9~"},
		{"\u00e9\u00e9", 0, "~"},
		{"", 0, ""},
	} {
		if got := Cut(tc.in, tc.n, "~"); got != tc.want {
			t.Errorf("Cut(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

// TestCleanHiddenAndBidi: Clean's contract is to replace "the
// Unicode format characters that reorder or hide text". These do and pass
// through unchanged:
//   - U+061C ARABIC LETTER MARK: a bidi mark like LRM/RLM (which Clean
//     replaces), it reorders neutral characters around it;
//   - U+E0001, U+E0020..U+E007F TAG characters: invisible, they carry a
//     hidden copy of ASCII text ("ASCII smuggling"), e.g. in a role claim
//     or an error description shown by status/login;
//   - U+00AD SOFT HYPHEN and U+180E MONGOLIAN VOWEL SEPARATOR (format
//     characters, invisible);
//   - U+115F and U+3164 (Hangul fillers, letters that render blank), which
//     make two different role or user names look the same.
//
// A complete rule: unicode.Is(unicode.Cf, r) (every format character),
// the C0/C1 controls already handled, and a short list of blank letters
// (U+115F, U+1160, U+3164, U+FFA0).
func TestCleanHiddenAndBidi(t *testing.T) {
	for _, r := range []rune{0x061c, 0xe0001, 0xe0041, 0xe007f, 0x00ad, 0x180e, 0x115f, 0x3164} {
		s := "alice" + string(r) + "-admins"
		if got := Clean(s); got == s {
			t.Errorf("Clean(%q) keeps %U", s, r)
		}
	}
}
