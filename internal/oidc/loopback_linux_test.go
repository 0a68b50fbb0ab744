package oidc

import (
	"bufio"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// getAsNobody sends GET u (http://127.0.0.1:PORT/...) from a process of
// uid 65534 (bash's /dev/tcp; the request line comes on its stdin, not
// its argv) and returns the answer's status and Location.
func getAsNobody(t *testing.T, u string) (int, string) {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-c", `IFS= read -r path && exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$path" "127.0.0.1:$1" >&3 && cat <&3`, "bash", pu.Port())
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}}
	cmd.Stdin = strings.NewReader(pu.RequestURI() + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bash as nobody: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(string(out))), nil)
	if err != nil {
		t.Fatalf("answer %q: %v", out, err)
	}
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("Location")
}

// TestLoopbackRefusesOtherUsers: another user of the computer who knows
// the start URL, and even the state, gets 403 from the start URL and the
// callback: no authorization URL, no ending the login with error=. The
// terminal says so once, the login keeps waiting, and the user's own
// sign-in then completes it.
func TestLoopbackRefusesOtherUsers(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("this test runs a process as another uid and needs root; CI runs as root")
		}
		t.Skip("needs root to run a process as another uid (in CI, with CI=true, this fails)")
	}
	c := newTestClient(t, newFakeOP(t), "cern_roles")
	r := runAuthCode(t, c, AuthCodeOptions{}, true)
	a, au := authURLOf(t, r)
	state := url.QueryEscape(au.Query().Get("state"))
	for _, u := range []string{
		r.start,
		au.Query().Get("redirect_uri") + "?error=access_denied&state=" + state,
		au.Query().Get("redirect_uri") + "?code=code-x&state=" + state,
	} {
		if code, loc := getAsNobody(t, u); code != http.StatusForbidden || loc != "" {
			t.Errorf("nobody: %s: %d, Location %q; want 403", u, code, loc)
		}
		r.stillWaiting(t, "nobody's request")
	}
	if n := strings.Count(r.stderr.String(), "refused a request from another user of this computer (uid 65534)"); n != 1 {
		t.Errorf("stderr says %d times that it refused another user, want once:\n%s", n, r.stderr.String())
	}
	if err := r.finish(t, a); err != nil {
		t.Fatal(err)
	}
}
