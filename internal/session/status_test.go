package session

import "testing"

func TestMaskToken(t *testing.T) {
	for in, want := range map[string]string{"hvs.CAESIabc": "hvs.****", "s.abc": "s.****", "2b1e8c5f-07cb": "****", "": "", "abcdefgh.x": "****"} {
		if got := maskToken(in); got != want {
			t.Errorf("maskToken(%q) = %q, want %q", in, got, want)
		}
	}
}
