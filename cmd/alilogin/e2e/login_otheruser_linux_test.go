package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/teststack"
	"github.com/alisw/alilogin/internal/testutil"
)

// Another user of a shared host (lxplus, a build node with X forwarding)
// during a browser login: the tests run as root and play that user as
// nobody (65534, dumpable_test.go).

// requireRoot: these tests start processes as another uid. CI runs as
// root; elsewhere they are skipped, in CI they fail.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("this test runs processes as another uid (nobody) and needs root; CI runs as root")
	}
	t.Skip("needs root to run processes as nobody (in CI, with CI=true, this fails)")
}

// launcher is an xdg-open first in PATH, as cli/browser looks it up on
// Linux (xdg-open, x-www-browser, www-browser, wslview): it hands the URL
// it is given to the test and keeps running, with the URL in its argv, as
// the launcher of a real browser would, until released.
type launcher struct {
	dir  string
	urls chan string
	hold *os.File
	once sync.Once
}

func newLauncher(t *testing.T) *launcher {
	t.Helper()
	l := &launcher{dir: t.TempDir(), urls: make(chan string, 1)}
	urlFifo, holdFifo := filepath.Join(l.dir, "url"), filepath.Join(l.dir, "hold")
	for _, f := range []string{urlFifo, holdFifo} {
		if err := syscall.Mkfifo(f, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The test holds both FIFOs open read-write: the launcher's open never
	// waits, and it ends when the test closes "hold" (EOF).
	uf, err := os.OpenFile(urlFifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if l.hold, err = os.OpenFile(holdFifo, os.O_RDWR, 0); err != nil {
		t.Fatal(err)
	}
	// "hold" is opened before the URL is written, so that it is open (and
	// a release seen) whenever the test releases it.
	script := "#!/bin/sh\n# xdg-open of the test: the URL to the test, then wait until released.\n" +
		"exec 3< '" + holdFifo + "'\nprintf '%s\\n' \"$1\" > '" + urlFifo + "'\nread -r _ <&3\nexit 0\n"
	if err := os.WriteFile(filepath.Join(l.dir, "xdg-open"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	go func() {
		if line, err := bufio.NewReader(uf).ReadString('\n'); err == nil {
			l.urls <- strings.TrimSuffix(line, "\n")
		}
	}()
	t.Cleanup(func() { l.release(); uf.Close() })
	return l
}

// release lets the launcher end, and with it the browser's Open in
// alilogin.
func (l *launcher) release() { l.once.Do(func() { l.hold.Close() }) }

// startBrowserLogin starts `alilogin login` with a browser (the
// launcher) and returns the process, the launcher and the URL the browser
// was given.
func startBrowserLogin(t *testing.T, u *user, profile string) (*proc, *launcher, string) {
	t.Helper()
	l := newLauncher(t)
	u.env["PATH"] = l.dir + ":" + u.env["PATH"]
	u.env["DISPLAY"] = ":0" // a desktop; --listen alone would choose the browser too
	p := u.start(t, "login", "--listen", "127.0.0.1:0", "--profile", profile, "--json")
	// The launcher holds alilogin's stderr: it must end before the
	// cleanup waits for alilogin's output (cleanups run last first).
	t.Cleanup(l.release)
	select {
	case s := <-l.urls:
		return p, l, s
	case <-p.done:
		t.Fatalf("alilogin ended (%v) before opening the browser; stderr:\n%s", p.err, p.stderr.String())
	case <-time.After(time.Minute):
		t.Fatalf("alilogin opened no browser in a minute; stderr:\n%s", p.stderr.String())
	}
	return nil, nil, ""
}

// authorizationURL is the authorization URL behind what the browser was
// given: the start URL's redirect, asked as the user (root here). A
// browser given the authorization URL itself (alilogin before the start
// URL) gets it back.
func authorizationURL(t *testing.T, browserURL string) *url.URL {
	t.Helper()
	bu, err := url.Parse(browserURL)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(browserURL, stack.Hydra.IssuerURL) {
		return bu
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(browserURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	au, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || au.Query().Get("state") == "" {
		t.Fatalf("start URL %s: %d, Location %q", browserURL, resp.StatusCode, resp.Header.Get("Location"))
	}
	return au
}

// snooped is one /proc/<pid>/{cmdline,environ} that nobody could read.
type snooped struct {
	PID  int    `json:"pid"`
	File string `json:"file"`
	Text string `json:"text"`
}

// snoopAsNobody runs internal/teststack/cmd/snoop as nobody, with an
// empty environment, and returns every cmdline and environ it read.
func snoopAsNobody(t *testing.T, ctx context.Context) []snooped {
	t.Helper()
	dir := testutil.ShortTempDir(t, "alilogin-snoop-", 0)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bins, err := teststack.BuildBinaries(ctx, dir, "github.com/alisw/alilogin/internal/teststack/cmd/snoop")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, bins[0])
	cmd.Env = []string{}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody, Groups: []uint32{}}}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("snoop as nobody: %v", err)
	}
	var got []snooped
	var last struct {
		UID  *int `json:"uid"`
		Read int  `json:"read"`
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var s snooped
		if strings.HasPrefix(sc.Text(), `{"read"`) {
			if err := json.Unmarshal(sc.Bytes(), &last); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("snoop line %q: %v", sc.Text(), err)
		}
		got = append(got, s)
	}
	if last.UID == nil || *last.UID != nobody || last.Read != len(got) {
		t.Fatalf("snoop ran as uid %v and read %d files, %d printed", last.UID, last.Read, len(got))
	}
	return got
}

// ownBrowserSignsIn: the user's own browser signs in as name (password
// pw) from browserURL, the browser login p then exits 0 logged in as
// name, and the page says "Signed in".
func ownBrowserSignsIn(t *testing.T, ctx context.Context, p *proc, browserURL, name, pw, redirect string) {
	t.Helper()
	b, err := teststack.NewBrowser()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	text, err := b.Login(ctx, browserURL, name, pw, redirect)
	if err != nil {
		t.Fatalf("browser login: %v\nstderr:\n%s", err, p.stderr.String())
	}
	if code, err := p.wait(time.Minute); err != nil || code != 0 {
		t.Fatalf("exit %d (%v); stderr:\n%s", code, err, p.stderr.String())
	}
	var sum summary
	if err := json.Unmarshal([]byte(p.stdout.String()), &sum); err != nil || sum.User != name || !strings.Contains(text, "Signed in") {
		t.Errorf("logged in as %q (%v), want %q; page %q; stderr:\n%s", sum.User, err, name, text, p.stderr.String())
	}
}

// TestLoginBrowserArgvCarriesNoSecret: during a real browser login, a
// process of another user (nobody) reads every /proc/<pid>/cmdline and
// environ it can, as on a shared host: the argv of xdg-open (which it
// can read: the launcher's URL is there) and of alilogin hold no state,
// nonce, PKCE challenge or authorization URL. The browser gets a start
// URL on the loopback listener instead, and the login completes through
// it at the real Hydra.
func TestLoginBrowserArgvCarriesNoSecret(t *testing.T) {
	requireRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	u, profile, name, pw := newLoginUser(t, ctx, "argv-users")
	u.deleteAtEnd(t, profile)

	p, l, browserURL := startBrowserLogin(t, u, profile)
	au := authorizationURL(t, browserURL)
	secrets := map[string]string{"the authorization URL": au.String()}
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if v := au.Query().Get(k); v != "" {
			secrets["the "+k] = v
			secrets["the "+k+" (escaped)"] = url.QueryEscape(v)
		} else {
			t.Fatalf("no %s in the authorization URL %s", k, au)
		}
	}

	// The launcher is still running (it holds the URL in its argv).
	seen := map[int]bool{}
	for _, s := range snoopAsNobody(t, ctx) {
		if s.File == "cmdline" && strings.Contains(s.Text, browserURL) {
			seen[s.PID] = true // the launcher
		}
		if s.PID == p.cmd.Process.Pid && s.File == "cmdline" {
			seen[-1] = true
		}
		for what, v := range secrets {
			if strings.Contains(s.Text, v) {
				t.Errorf("nobody read %s in /proc/%d/%s: %q", what, s.PID, s.File, s.Text)
			}
		}
	}
	if !seen[-1] || len(seen) < 2 {
		t.Errorf("nobody did not read the argv of alilogin and of its launcher (saw %v): the scan proves nothing", seen)
	}

	l.release()
	ownBrowserSignsIn(t, ctx, p, browserURL, name, pw, au.Query().Get("redirect_uri"))
}

// TestLoginCallbackRefusesOtherUsers: another user of the computer
// (nobody, with its own Chromium) who has the start URL, and even this
// login's authorization URL with its state, cannot take the login over:
// the start URL answers 403; signing in at the real Hydra as another SSO
// user brings nobody's browser to the callback with a valid code and the
// right state, and gets 403; a callback with error= and the right state
// gets 403 and does not end the login. The terminal says so once, and the
// user's own sign-in then completes the login as the user.
func TestLoginCallbackRefusesOtherUsers(t *testing.T) {
	requireRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	profile := newProfile(t, ctx, "takeover-users")
	name, pw := newUserAccount("takeover-users")
	attacker, attackerPw := newUserAccount("takeover-users")
	u := newUser(t)
	st := u.deleteAtEnd(t, profile)

	p, l, browserURL := startBrowserLogin(t, u, profile)
	l.release()
	au := authorizationURL(t, browserURL)
	redirect := au.Query().Get("redirect_uri")
	const refused = "belongs to another user"
	stillWaiting := func(after string) {
		t.Helper()
		select {
		case <-p.done:
			t.Fatalf("%s: the login ended (exit %d); stderr:\n%s", after, p.code(), p.stderr.String())
		default:
		}
	}

	nb, err := teststack.NewBrowserAs(nobody, nobody)
	if err != nil {
		t.Fatal(err)
	}
	defer nb.Close()
	// The start URL, as read in the launcher's argv.
	if err := nb.Open(ctx, browserURL); err != nil {
		t.Fatal(err)
	}
	if text, _ := nb.Text(ctx); !strings.Contains(text, refused) {
		t.Errorf("nobody's browser at the start URL: %q", text)
	}
	stillWaiting("nobody's start URL")
	// This login's authorization URL, signed in at Hydra as another SSO
	// user: Hydra sends nobody's browser to the callback with a code and
	// the right state.
	text, err := nb.Login(ctx, au.String(), attacker, attackerPw, redirect)
	if err != nil {
		t.Fatalf("nobody's sign-in at Hydra: %v\nstderr:\n%s", err, p.stderr.String())
	}
	if !strings.Contains(text, refused) {
		t.Errorf("nobody's browser at the callback: %q", text)
	}
	if cbURL, _ := nb.URL(ctx); !strings.Contains(cbURL, "code=") {
		t.Errorf("nobody's browser did not bring a code to the callback: %s", cbURL)
	}
	stillWaiting("nobody's callback with a code")
	// Ending the login with error= and the right state.
	if err := nb.Open(ctx, redirect+"?"+url.Values{"error": {"access_denied"}, "state": {au.Query().Get("state")}}.Encode()); err != nil {
		t.Fatal(err)
	}
	if text, _ := nb.Text(ctx); !strings.Contains(text, refused) {
		t.Errorf("nobody's error= callback: %q", text)
	}
	stillWaiting("nobody's error= callback")
	if n := strings.Count(p.stderr.String(), "refused a request from another user of this computer (uid 65534)"); n != 1 {
		t.Errorf("stderr says %d times that it refused another user, want once:\n%s", n, p.stderr.String())
	}

	// The user's own browser.
	ownBrowserSignsIn(t, ctx, p, browserURL, name, pw, redirect)
	if rec, err := st.Get(profile); err != nil || rec.User != name {
		t.Errorf("stored login of %v (%v), want %s", rec, err, name)
	}
}

// TestDeviceLoginArgvCarriesNoSecret: during a device login (chosen by
// itself over SSH without a display), nobody's reading of every cmdline
// and environ finds neither the user code nor the complete verification
// URL: alilogin starts no browser and no program with them; they are on
// the user's terminal only.
func TestDeviceLoginArgvCarriesNoSecret(t *testing.T) {
	requireRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	issuer := startDeviceOP(t, "device-argv", "device-argv-pw", []string{"device-users"})
	u := newUser(t)
	l := newLauncher(t) // a launcher that would show what it was given
	u.env["PATH"] = l.dir + ":" + u.env["PATH"]
	u.env["ALILOGIN_ISSUER"] = issuer
	u.env["ALILOGIN_CLIENT_ID"] = deviceClientID
	u.env["SSH_CONNECTION"] = "127.0.0.1 50000 127.0.0.1 22"
	p := u.start(t, "login", "--profile", "device-argv")
	t.Cleanup(l.release)
	complete := p.waitLine(t, deviceURL, time.Minute)
	code := p.waitLine(t, deviceCode, time.Minute)
	for _, s := range snoopAsNobody(t, ctx) {
		for what, v := range map[string]string{"the user code": code, "the complete verification URL": complete} {
			if strings.Contains(s.Text, v) {
				t.Errorf("nobody read %s in /proc/%d/%s: %q", what, s.PID, s.File, s.Text)
			}
		}
	}
	select {
	case u := <-l.urls:
		t.Errorf("the device login opened a browser on %s", u)
	default:
	}
}
