package oidc

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestResultPageShowsTheMessageAsText: the callback's result page puts
// its message (which may carry the identity provider's error text) in
// the page as text: markup in it is escaped, never run; the page's
// headers forbid scripts and keep it out of caches.
func TestResultPageShowsTheMessageAsText(t *testing.T) {
	for _, ok := range []bool{true, false} {
		rec := httptest.NewRecorder()
		page(rec, http.StatusBadRequest, ok, `Sign-in failed: <script>alert(1)</script> & "x" 'y'`+"\x00.")
		body := rec.Body.String()
		if strings.Contains(body, "<script>") || !strings.Contains(body, `<p id="message">Sign-in failed: &lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;x&#34; &#39;y&#39;`+"\uFFFD.</p>") {
			t.Errorf("the message is not the page's text:\n%s", body)
		}
		want := `<h1 class="fail">Sign-in failed</h1>`
		if ok {
			want = `<h1 class="ok">Signed in</h1>`
		}
		if !strings.Contains(body, want) || !strings.HasPrefix(body, "<!doctype html>") || !strings.HasSuffix(body, "</p></body></html>\n") {
			t.Errorf("ok=%v: the page:\n%s", ok, body)
		}
		if rec.Code != http.StatusBadRequest || rec.Header().Get("Content-Security-Policy") != "default-src 'none'; style-src 'unsafe-inline'" || rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("status %d, headers %v", rec.Code, rec.Header())
		}
	}
}
