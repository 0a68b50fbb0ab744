package safehttp

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/hostile"
)

func TestOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"https://Vault.CERN.ch/v1/x":     "https://vault.cern.ch:443",
		"https://vault.cern.ch:443/":     "https://vault.cern.ch:443",
		"http://127.0.0.1:8200/v1?x=1":   "http://127.0.0.1:8200",
		"http://127.0.0.1":               "http://127.0.0.1:80",
		"https://[::1]:8200/v1/sys/init": "https://[::1]:8200",
	} {
		u, err := url.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := Origin(u); got != want {
			t.Errorf("Origin(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestCheckRedirect(t *testing.T) {
	req := func(s string, status int) *http.Request {
		u, _ := url.Parse(s)
		return &http.Request{URL: u, Response: &http.Response{StatusCode: status}}
	}
	first := req("https://vault.example:8200/v1/auth/token/renew-self", 0)
	for _, tc := range []struct {
		name, to string
		refused  bool
	}{
		{"same origin", "https://vault.example:8200/v1/other", false},
		{"same origin, explicit default port", "https://vault.example:8200/", false},
		{"other port", "https://vault.example:8201/v1/auth/token/renew-self", true},
		{"other host", "https://evil.example:8200/v1/auth/token/renew-self", true},
		{"https to http", "http://vault.example:8200/v1/auth/token/renew-self", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckRedirect(req(tc.to, 307), []*http.Request{first})
			var re *RedirectError
			if got := errors.As(err, &re); got != tc.refused {
				t.Fatalf("refused = %v (%v), want %v", got, err, tc.refused)
			}
			if tc.refused && (!strings.Contains(err.Error(), "https://vault.example:8200") || !strings.Contains(err.Error(), Origin(req(tc.to, 0).URL)) || re.Status != 307) {
				t.Errorf("error does not name both origins and the status: %v", err)
			}
		})
	}
	via := make([]*http.Request, maxRedirects)
	for i := range via {
		via[i] = first
	}
	if err := CheckRedirect(req("https://vault.example:8200/x", 307), via); err == nil {
		t.Error("redirect loop followed without end")
	}
}

func TestReadAll(t *testing.T) {
	for _, tc := range []struct {
		n       int
		tooLong bool
	}{{0, false}, {10, false}, {11, true}, {1 << 20, true}} {
		data, err := ReadAll(strings.NewReader(strings.Repeat("a", tc.n)), 10)
		var tl *TooLargeError
		if errors.As(err, &tl) != tc.tooLong || (!tc.tooLong && len(data) != tc.n) {
			t.Errorf("ReadAll(%d bytes, 10) = %d bytes, %v", tc.n, len(data), err)
		}
	}
	if got := (&TooLargeError{Limit: MaxSSO}).Error(); got != "the answer is larger than 1 MiB" {
		t.Errorf("message: %s", got)
	}
}

// TestReadBodyRefusesAnnouncedSizeUnread: an answer whose Content-Length
// is over the bound is refused before a byte of it is read; one within
// is read as ReadAll reads it.
func TestReadBodyRefusesAnnouncedSizeUnread(t *testing.T) {
	body := strings.NewReader(strings.Repeat("a", 5))
	_, err := ReadBody(&http.Response{ContentLength: 11, Body: io.NopCloser(body)}, 10)
	var tl *TooLargeError
	if !errors.As(err, &tl) || body.Len() != 5 {
		t.Errorf("announced 11 bytes, bound 10: %v, %d bytes left unread; want a *TooLargeError and all 5 unread", err, body.Len())
	}
	for _, cl := range []int64{-1, 5} {
		data, err := ReadBody(&http.Response{ContentLength: cl, Body: io.NopCloser(strings.NewReader("aaaaa"))}, 10)
		if err != nil || string(data) != "aaaaa" {
			t.Errorf("Content-Length %d: %q, %v", cl, data, err)
		}
	}
}

// A client from NewClient fails fast on an endless answer and on an
// announced one over the bound, with an error naming the bound, and reads
// a small answer normally.
func TestNewClientBoundsAnswers(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    *hostile.Huge
		ok   bool
	}{
		{"small", &hostile.Huge{Size: 100}, true},
		{"exactly the bound", &hostile.Huge{Size: MaxSSO}, true},
		{"endless", &hostile.Huge{Size: -1}, false},
		{"announced too large", &hostile.Huge{Size: 400 << 20, ContentLength: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := hostile.NewServer(tc.h)
			t.Cleanup(srv.Close)
			hc := NewClient(10*time.Second, MaxSSO)
			resp, err := hc.Get(srv.URL)
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if int64(len(b)) != tc.h.Size {
					t.Errorf("read %d bytes, want %d", len(b), tc.h.Size)
				}
				return
			}
			if err == nil {
				resp.Body.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), "larger than 1 MiB") || !Refused(err) {
				t.Errorf("error: %v", err)
			}
			hc.CloseIdleConnections()
			if tc.h.Sent() > 64<<20 {
				t.Errorf("the client read on: %d bytes sent", tc.h.Sent())
			}
		})
	}
}

// Harden keeps the caller's timeout and transport, and adds the redirect
// rule and the bound.
func TestHarden(t *testing.T) {
	target := hostile.NewServer(hostile.ErrorBody(200, "text/plain", "secret received"))
	t.Cleanup(target.Close)
	front := hostile.NewRedirect(http.StatusTemporaryRedirect, target.URL)
	t.Cleanup(front.Close)
	hc := Harden(&http.Client{Timeout: 7 * time.Second}, MaxSSO)
	if hc.Timeout != 7*time.Second {
		t.Errorf("timeout lost: %s", hc.Timeout)
	}
	resp, err := hc.Post(front.URL+"/token", "application/x-www-form-urlencoded", strings.NewReader("refresh_token=rt-secret"))
	if err == nil {
		resp.Body.Close()
		t.Fatal("redirect to another origin followed")
	}
	if n := len(target.Requests()); n != 0 {
		t.Errorf("the other origin got %d requests", n)
	}
	if again := Harden(hc, MaxSSO); again.Transport != hc.Transport {
		t.Error("Harden wrapped a hardened transport again")
	}
}
