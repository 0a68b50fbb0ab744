package termtext

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Replacement is what Clean puts in place of each unsafe character.
const Replacement = '?'

// Clean returns s with every control character replaced by '?': C0 (including
// ESC, CR, LF and TAB), DEL, C1, invalid UTF-8, and the Unicode format
// characters that reorder or hide text (bidi embeddings, overrides and
// isolates, zero-width characters, the BOM, tag characters: every Unicode
// format character, category Cf) and the Hangul fillers that render
// blank. Printable text is unchanged.
func Clean(s string) string {
	return replaceUnsafe(s, false)
}

// replaceUnsafe is Clean, keeping line feeds and tabs when keepLines.
func replaceUnsafe(s string, keepLines bool) string {
	if safe(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case keepLines && (r == '\n' || r == '\t'):
			b.WriteByte(byte(r))
		case r == utf8.RuneError && n <= 1 || unsafe(r):
			b.WriteRune(Replacement)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// CleanAll is Clean on each string, in a new slice.
func CleanAll(ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = Clean(s)
	}
	return out
}

func safe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

func unsafe(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r < 0xa0:
		return true
	case r == 0x2028 || r == 0x2029, // line and paragraph separators
		unicode.Is(unicode.Cf, r),                                // format characters: bidi marks, embeddings, overrides and isolates, zero-width characters, the BOM, soft hyphen, tag characters
		r == 0x115f || r == 0x1160 || r == 0x3164 || r == 0xffa0, // Hangul fillers: letters that render blank
		r >= 0xfff9 && r <= 0xfffb:                               // interlinear annotation
		return true
	}
	return false
}

// CleanLines is Clean that keeps line feeds and tabs: for whole messages
// alilogin composed itself (an errors.Join of several, a list), where
// each part that came from a server was already cleaned with Clean and
// only a missed escape sequence must still not reach the terminal.
func CleanLines(s string) string {
	return replaceUnsafe(s, true)
}

// Error wraps err so that its message is cleaned (Clean) while errors.Is
// and errors.As still see err: for errors of libraries that quote a
// server's answer (go-oidc's "500 Internal Server Error: <body>").
func Error(err error) error {
	if err == nil {
		return nil
	}
	return cleanError{err}
}

type cleanError struct{ err error }

func (e cleanError) Error() string { return Clean(e.err.Error()) }
func (e cleanError) Unwrap() error { return e.err }

// Cut returns s cut to its first n characters (runes, never inside one)
// followed by mark, or s itself when it is no longer than n.
func Cut(s string, n int, mark string) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + mark
		}
		i++
	}
	return s
}
