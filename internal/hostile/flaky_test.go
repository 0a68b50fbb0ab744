package hostile

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestFlakyProxy(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "from "+r.URL.Path) }))
	defer up.Close()
	p, err := NewFlakyProxy(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	f := p.Fail(func(r *http.Request) bool { return r.URL.Path == "/flaky" }, 2, http.StatusServiceUnavailable, `{"errors":["busy"]}`)
	get := func(path string) (int, string) {
		resp, err := http.Get(p.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for i, want := range []struct {
		path, body string
		status     int
	}{
		{"/other", "from /other", 200},
		{"/flaky", `{"errors":["busy"]}`, 503},
		{"/flaky", `{"errors":["busy"]}`, 503},
		{"/flaky", "from /flaky", 200},
	} {
		if status, body := get(want.path); status != want.status || body != want.body {
			t.Errorf("request %d, %s: %d %q; want %d %q", i, want.path, status, body, want.status, want.body)
		}
	}
	if p.Served(f) != 2 || len(p.Requests()) != 4 {
		t.Errorf("served %d, recorded %d; want 2 and 4", p.Served(f), len(p.Requests()))
	}
}
