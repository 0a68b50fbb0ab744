package hostile

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHoldProxy(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "from "+r.URL.Path) }))
	defer up.Close()
	p, err := NewHoldProxy(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	h := p.HoldNext(func(r *http.Request) bool { return r.URL.Path == "/held" })
	get := func(path string) string {
		resp, err := http.Get(p.URL + path)
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	held := make(chan string)
	go func() { held <- get("/held") }()
	<-h.Arrived()
	if got := get("/other"); got != "from /other" {
		t.Errorf("other request while one is held: %q", got)
	}
	select {
	case got := <-held:
		t.Fatalf("held response came back before Release: %q", got)
	default:
	}
	h.Release()
	if got := <-held; got != "from /held" {
		t.Errorf("held response: %q", got)
	}
	if got := get("/held"); got != "from /held" { // only the next one is held
		t.Errorf("second request: %q", got)
	}
	if n := len(p.Requests()); n != 3 || !strings.HasPrefix(p.Requests()[0].Path, "/") {
		t.Errorf("%d requests recorded, want 3", n)
	}
}
