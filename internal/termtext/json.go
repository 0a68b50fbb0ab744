package termtext

import (
	"fmt"
	"strings"
	"unicode/utf16"
)

// EscapeJSON returns the JSON text b (as encoding/json writes it) with
// every rune above '~' that Clean would replace written as a \uXXXX escape
// (a surrogate pair above the BMP): DEL, C1 controls and the format
// characters that reorder or hide text. encoding/json escapes C0 controls
// but leaves those as they are. The result is the same JSON, safe on a
// terminal. Only inside strings can encoding/json's output hold such a
// rune, and there the escape means the same.
func EscapeJSON(b []byte) string {
	var out strings.Builder
	out.Grow(len(b))
	for _, r := range string(b) {
		if s := string(r); r > 0x7e && Clean(s) != s {
			if r > 0xffff {
				r1, r2 := utf16.EncodeRune(r)
				fmt.Fprintf(&out, "\\u%04x\\u%04x", r1, r2)
				continue
			}
			fmt.Fprintf(&out, "\\u%04x", r)
			continue
		}
		out.WriteRune(r)
	}
	return out.String()
}
