package hostile

import (
	"net/http"
	"strings"
	"testing"
)

// TestRecorderFindsWhatARequestCarried: Carried finds a text in the
// path, a header or the body of any recorded request, SentHeader only
// a header of exactly that value; neither finds what no request carried.
func TestRecorderFindsWhatARequestCarried(t *testing.T) {
	s := NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(s.Close)
	send := func(path, header, body string) {
		req, err := http.NewRequest("POST", s.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if header != "" {
			req.Header.Set("X-Vault-Token", header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	send("/v1/a?q=in-query", "", "")
	send("/v1/b", "in-header-value", "")
	send("/v1/c", "", `{"x":"in-body"}`)
	for _, text := range []string{"in-query", "header-val", "in-body"} {
		if !s.Carried(text) {
			t.Errorf("Carried(%q) = false, want true", text)
		}
	}
	if s.Carried("never-sent") {
		t.Error("Carried(a text no request had) = true")
	}
	if !s.SentHeader("X-Vault-Token", "in-header-value") || s.SentHeader("X-Vault-Token", "in-header") {
		t.Error("SentHeader does not match the exact value only")
	}
}
