package termtext

// Review 9a: format characters that reorder or hide text and that Clean
// lets through.

import "testing"

// TestReviewCleanHiddenAndBidi: Clean's contract is to replace "the
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
func TestReviewCleanHiddenAndBidi(t *testing.T) {
	for _, r := range []rune{0x061c, 0xe0001, 0xe0041, 0xe007f, 0x00ad, 0x180e, 0x115f, 0x3164} {
		s := "alice" + string(r) + "-admins"
		if got := Clean(s); got == s {
			t.Errorf("Clean(%q) keeps %U", s, r)
		}
	}
}
