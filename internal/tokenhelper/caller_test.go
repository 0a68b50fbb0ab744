package tokenhelper

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/envcontract"
	"github.com/alisw/alilogin/internal/store"
)

// TestAddressFlags: every spelling of an address flag anywhere on the
// line is listed, after "--" and after arguments too (the helper does
// not emulate the vault CLI's parser: it refuses any foreign one).
func TestAddressFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"token", "lookup"}, nil},
		{[]string{"token", "lookup", "-address=http://x:1"}, []string{"http://x:1"}},
		{[]string{"--address=http://x:1", "status"}, []string{"http://x:1"}},
		{[]string{"kv", "get", "-address", "http://x:2", "secret/a"}, []string{"http://x:2"}},
		{[]string{"kv", "get", "--address", "http://x:2", "-address=http://x:3", "secret/a"}, []string{"http://x:2", "http://x:3"}},
		{[]string{"status", "-agent-address=http://a:1"}, []string{"http://a:1"}},
		{[]string{"status", "--agent-address", "http://a:2"}, []string{"http://a:2"}},
		{[]string{"kv", "put", "secret/a", "--", "-address=http://x:1"}, []string{"http://x:1"}},
		{[]string{"read", "-field", "--", "-address=http://x:1", "p"}, []string{"http://x:1"}},
		{[]string{"read", "-address", "http://o:1", "-field", "-address=http://x:1", "p"}, []string{"http://o:1", "http://x:1"}},
		{[]string{"status", "-address"}, []string{""}},
		{[]string{"status", "-addressx=http://x:1"}, nil},
	} {
		if got := AddressFlags(c.args); !slices.Equal(got, c.want) {
			t.Errorf("%q: got %q, want %q", c.args, got, c.want)
		}
	}
}

// TestRefusal: the client's environment and command line decide.
func TestRefusal(t *testing.T) {
	own := "http://vault.example:8200"
	for _, c := range []struct {
		name   string
		env    map[string]string
		args   []string
		vault  string
		refuse bool
	}{
		{"own", map[string]string{"VAULT_ADDR": own}, []string{"token", "lookup"}, own, false},
		{"own in another spelling", map[string]string{"VAULT_ADDR": "HTTP://vault.example:8200/"}, []string{"-address=http://VAULT.example:8200"}, own, false},
		{"no VAULT_ADDR", map[string]string{}, nil, own, true},
		{"other VAULT_ADDR", map[string]string{"VAULT_ADDR": "http://other:8200"}, nil, own, true},
		{"agent", map[string]string{"VAULT_ADDR": own, "VAULT_AGENT_ADDR": own}, nil, own, true},
		{"VAULT_PROXY_ADDR", map[string]string{"VAULT_ADDR": own, "VAULT_PROXY_ADDR": "http://127.0.0.1:1"}, nil, own, true},
		{"VAULT_HTTP_PROXY", map[string]string{"VAULT_ADDR": own, "VAULT_HTTP_PROXY": "http://127.0.0.1:1"}, nil, own, true},
		{"VAULT_SRV_LOOKUP", map[string]string{"VAULT_ADDR": own, "VAULT_SRV_LOOKUP": "true"}, nil, own, true},
		{"http_proxy, http Vault", map[string]string{"VAULT_ADDR": own, "http_proxy": "http://p:3128"}, nil, own, true},
		{"ALL_PROXY", map[string]string{"VAULT_ADDR": own, "ALL_PROXY": "socks5://p:1080"}, nil, own, true},
		{"HTTPS_PROXY, http Vault", map[string]string{"VAULT_ADDR": own, "HTTPS_PROXY": "http://p:3128"}, nil, own, false},
		{"HTTPS_PROXY, https Vault", map[string]string{"VAULT_ADDR": "https://vault.example", "HTTPS_PROXY": "http://p:3128"}, nil, "https://vault.example", true},
		{"HTTP_PROXY, loopback Vault", map[string]string{"VAULT_ADDR": "http://127.0.0.1:8200", "HTTP_PROXY": "http://p:3128"}, nil, "http://127.0.0.1:8200", false},
		{"flag after the path", map[string]string{"VAULT_ADDR": own}, []string{"read", "-address=http://o:1", "p", "-address=" + own}, own, true},
		{"after --", map[string]string{"VAULT_ADDR": own}, []string{"read", "-field", "--", "-address=http://o:1", "p"}, own, true},
		{"agent flag", map[string]string{"VAULT_ADDR": own}, []string{"status", "-agent-address=http://127.0.0.1:8100"}, own, true},
		{"flag without value", map[string]string{"VAULT_ADDR": own}, []string{"status", "-address"}, own, true},
		// Go exempts only lower-case localhost and loopback IPs from
		// HTTP_PROXY: the check follows the client's own spelling.
		{"HTTP_PROXY, LOCALHOST Vault", map[string]string{"VAULT_ADDR": "http://LOCALHOST:8200", "HTTP_PROXY": "http://p:3128"}, nil, "http://localhost:8200", true},
		{"HTTP_PROXY, localhost. Vault", map[string]string{"VAULT_ADDR": "http://localhost.:8200", "http_proxy": "http://p:3128"}, nil, "http://localhost:8200", true},
		{"HTTP_PROXY, localhost Vault", map[string]string{"VAULT_ADDR": "http://localhost:8200", "HTTP_PROXY": "http://p:3128"}, nil, "http://localhost:8200", false},
		{"HTTP_PROXY, ::1 Vault", map[string]string{"VAULT_ADDR": "http://[::1]:8200", "HTTP_PROXY": "http://p:3128"}, nil, "http://[::1]:8200", false},
		{"HTTP_PROXY, LOCALHOST flag", map[string]string{"VAULT_ADDR": "http://localhost:8200", "HTTP_PROXY": "http://p:3128"}, []string{"status", "-address=http://LOCALHOST:8200"}, "http://localhost:8200", true},
		{"GODEBUG http2debug", map[string]string{"VAULT_ADDR": own, "GODEBUG": "gctrace=1,http2debug=1"}, nil, own, true},
		{"GODEBUG other", map[string]string{"VAULT_ADDR": own, "GODEBUG": "gctrace=1"}, nil, own, false},
		{"SSL_CERT_FILE", map[string]string{"VAULT_ADDR": own, "SSL_CERT_FILE": "/tmp/evil.pem"}, nil, own, runtime.GOOS == "linux"},
		{"SSL_CERT_FILE, VAULT_CACERT", map[string]string{"VAULT_ADDR": own, "SSL_CERT_FILE": "/tmp/evil.pem", "VAULT_CACERT": "/etc/ca.pem"}, nil, own, false},
		{"BAO_ADDR, vault CLI", map[string]string{"VAULT_ADDR": own, "BAO_ADDR": "http://o:1"}, nil, own, false},
	} {
		var env []string
		for k, v := range c.env {
			env = append(env, k+"="+v)
		}
		why := Refusal(envcontract.VaultCLI, env, c.args, c.vault)
		if (why != "") != c.refuse {
			t.Errorf("%s: refusal %q, want refused %v", c.name, why, c.refuse)
		}
	}
}

// TestEnvRefusalEveryVariable: the token helper refuses, for every CLI
// that reads it, every variable of the environment contract that would
// send the Vault token elsewhere or check the Vault more weakly; the
// bao CLI also for an empty BAO_* (it takes it over VAULT_*).
func TestEnvRefusalEveryVariable(t *testing.T) {
	names := []string{"BAO_ADDR", "BAO_TOKEN", "BAO_AGENT_ADDR", "BAO_PROXY_ADDR", "BAO_HTTP_PROXY", "BAO_SKIP_VERIFY", "BAO_CACERT"}
	for _, r := range envcontract.Rules {
		if r.Class == envcontract.Reroute && !r.Prefix && slices.Contains(r.Servers, store.Vault) && !slices.Contains(r.NotOn, runtime.GOOS) {
			names = append(names, r.Name)
		}
	}
	for _, n := range names {
		for _, cli := range []envcontract.CLI{envcontract.VaultCLI, envcontract.BaoCLI, ""} {
			bao := strings.HasPrefix(n, "BAO_")
			env := []string{"VAULT_ADDR=https://vault.example", n + "=1"}
			why := EnvRefusal(cli, env)
			if want := !bao || cli != envcontract.VaultCLI; (why != "") != want || want && !strings.HasPrefix(why, n+" is set") {
				t.Errorf("%s for %q: refusal %q, want refused %v", n, cli, why, want)
			}
			if why := EnvRefusal(cli, []string{"VAULT_ADDR=https://vault.example", n + "="}); (why != "") != (bao && cli != envcontract.VaultCLI) {
				t.Errorf("empty %s for %q: refusal %q", n, cli, why)
			}
		}
	}
}

// TestFindClientPassesShells: from a process that two shells run, the
// client is the first program above them (here a copy of the test
// binary, "the client"), with its own arguments and environment, not
// the shells', whatever its name, and the Go main package it was built
// from.
func TestFindClientPassesShells(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	switch os.Getenv("TOKENHELPER_TEST_ROLE") {
	case "helper":
		c, err := FindClient()
		if err != nil {
			os.Stdout.WriteString("error: " + err.Error())
			os.Exit(0)
		}
		os.Stdout.WriteString(strconv.Itoa(c.PID) + " " + c.Getenv("TOKENHELPER_TEST_MARK") + " " + c.Program + " " + strings.Join(c.Args, ","))
		os.Exit(0)
	case "client":
		// Not exec'd by the shells: "; true" keeps each one as a
		// parent. The shells change the mark; the client's own value
		// must come back.
		script := "TOKENHELPER_TEST_MARK=shell TOKENHELPER_TEST_ROLE=helper; export TOKENHELPER_TEST_MARK TOKENHELPER_TEST_ROLE; " + exe + " -test.run=TestFindClientPassesShells; true"
		out, err := exec.Command("sh", "-c", "bash -c '"+script+"'; true").Output()
		if err != nil {
			os.Stdout.WriteString("error: could not run the helper: " + err.Error())
			os.Exit(0)
		}
		bi, _ := debug.ReadBuildInfo()
		want := strconv.Itoa(os.Getpid()) + " client " + bi.Path + " " + strings.Join(os.Args[1:], ",")
		if string(out) != want {
			os.Stdout.WriteString("got " + strconv.Quote(string(out)) + ", want " + strconv.Quote(want))
		} else {
			os.Stdout.WriteString("ok")
		}
		os.Exit(0)
	}
	if runtime.GOOS != "linux" {
		if _, err := FindClient(); err != ErrNoProcessView {
			t.Errorf("FindClient off Linux: %v, want ErrNoProcessView", err)
		}
		return
	}
	cmd := exec.Command(exe, "-test.run=TestFindClientPassesShells", "-test.v=false")
	cmd.Env = append(os.Environ(), "TOKENHELPER_TEST_ROLE=client", "TOKENHELPER_TEST_MARK=client")
	out, err := cmd.Output()
	if err != nil || string(out) != "ok" {
		t.Errorf("%s (%v)", out, err)
	}
}

// TestRefusalTLSFlagsAndServerCommands: a vault or bao command line that
// changes how the CLI checks the Vault's certificate (any spelling of
// -tls-skip-verify, -tls-server-name, -ca-cert, -ca-path, anywhere on
// the line), that names a configuration file (-config), or that runs a
// long-lived agent, proxy or server from one does not get the token;
// the client certificate flags and ordinary arguments do.
func TestRefusalTLSFlagsAndServerCommands(t *testing.T) {
	own := "https://vault.example:8200"
	env := []string{"VAULT_ADDR=" + own}
	for _, c := range []struct {
		args   []string
		refuse bool
	}{
		{[]string{"token", "lookup"}, false},
		{[]string{"token", "lookup", "-tls-skip-verify"}, true},
		{[]string{"token", "lookup", "--tls-skip-verify=true"}, true},
		{[]string{"token", "lookup", "-tls-skip-verify=false"}, true},
		{[]string{"-tls-server-name=evil.example", "token", "lookup"}, true},
		{[]string{"token", "lookup", "--tls-server-name", "evil.example"}, true},
		{[]string{"token", "lookup", "-ca-cert=/tmp/evil.pem"}, true},
		{[]string{"token", "lookup", "-ca-cert", "/tmp/evil.pem"}, true},
		{[]string{"token", "lookup", "--ca-path=/tmp/evil"}, true},
		{[]string{"kv", "get", "secret/a", "--", "-ca-path", "/tmp/evil"}, true},
		{[]string{"token", "lookup", "-client-cert=/tmp/c.pem", "-client-key=/tmp/k.pem"}, false},
		{[]string{"agent", "-config=/tmp/agent.hcl"}, true},
		{[]string{"agent"}, true},
		{[]string{"proxy", "-config", "/tmp/proxy.hcl"}, true},
		{[]string{"server", "-dev"}, true},
		{[]string{"operator", "diagnose", "-config=/tmp/x.hcl"}, true},
		{[]string{"kv", "get", "secret/agent"}, false},
		{[]string{"read", "-field=proxy", "secret/server"}, false},
		{[]string{"token", "lookup", "-ca-certx=1"}, false},
	} {
		for _, cli := range []envcontract.CLI{envcontract.VaultCLI, envcontract.BaoCLI} {
			why := Refusal(cli, env, c.args, own)
			if (why != "") != c.refuse {
				t.Errorf("%s %q: refusal %q, want refused %v", cli, c.args, why, c.refuse)
			}
		}
	}
}

// TestRefusalTrailingDot: a client address whose host ends in a dot is
// not the login's Vault, in VAULT_ADDR or a flag: the client's resolver
// may ask DNS for "localhost." where "localhost" is /etc/hosts'.
func TestRefusalTrailingDot(t *testing.T) {
	own := "http://localhost:8200"
	for _, c := range []struct {
		addr string
		args []string
	}{
		{"http://localhost.:8200", nil},
		{"http://LOCALHOST.:8200/", nil},
		{own, []string{"status", "-address=http://localhost.:8200"}},
	} {
		if why := Refusal(envcontract.VaultCLI, []string{"VAULT_ADDR=" + c.addr}, c.args, own); why == "" {
			t.Errorf("VAULT_ADDR=%s %q: served for the login of %s", c.addr, c.args, own)
		}
	}
	if why := Refusal(envcontract.VaultCLI, []string{"VAULT_ADDR=" + own}, nil, own); why != "" {
		t.Errorf("control: %s refused: %s", own, why)
	}
}

// TestTrustRefusal: the helper refuses a client that would check the
// Vault's certificate otherwise than the login did (another CA file's
// contents, a TLS server name); the same contents in another file, and a
// login of an earlier alilogin (no trust recorded), are served.
func TestTrustRefusal(t *testing.T) {
	dir := t.TempDir()
	pub, same, evil := filepath.Join(dir, "pub.pem"), filepath.Join(dir, "same.pem"), filepath.Join(dir, "evil.pem")
	for p, d := range map[string]string{pub: "PUBLIC", same: "PUBLIC", evil: "EVIL"} {
		if err := os.WriteFile(p, []byte(d), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	trust, err := apiclient.Trust(pub, "", func(string) string { return "" }, runtime.GOOS)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		env    []string
		trust  string
		refuse bool
	}{
		{[]string{"VAULT_CACERT=" + pub}, trust, false},
		{[]string{"VAULT_CACERT=" + same}, trust, false},
		{[]string{"VAULT_CACERT=" + evil}, trust, true},
		{[]string{}, trust, true},
		{[]string{"VAULT_CACERT=" + pub, "VAULT_TLS_SERVER_NAME=evil.example"}, trust, true},
		{[]string{"VAULT_CACERT=" + filepath.Join(dir, "gone.pem")}, trust, true},
		{[]string{"VAULT_CACERT=" + evil, "VAULT_TLS_SERVER_NAME=evil.example"}, "", false},
	} {
		if why := TrustRefusal(envcontract.VaultCLI, c.env, c.trust); (why != "") != c.refuse {
			t.Errorf("%q (login %q): refusal %q, want refused %v", c.env, c.trust, why, c.refuse)
		}
	}
}

// TestDuplicateEnvChild is the child of TestDuplicateEnvFirstWins:
// it writes what a Go program (the vault CLI is one) reads as VAULT_ADDR.
func TestDuplicateEnvChild(t *testing.T) {
	out := os.Getenv("REVIEW3C_OUT")
	if out == "" {
		return
	}
	if err := os.WriteFile(out, []byte(os.Getenv("VAULT_ADDR")), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDuplicateEnvFirstWins: a client started with VAULT_ADDR
// twice (execve with a hand-made envp) uses the FIRST one when it is a Go
// program (syscall.copyenv keeps the first mention), but Client.Getenv
// takes the last: the helper checks the login's Vault while the CLI
// sends the token to the other one. Same for VAULT_AGENT_ADDR=evil
// followed by VAULT_AGENT_ADDR= (the helper sees it unset).
func TestDuplicateEnvFirstWins(t *testing.T) {
	const own = "https://vault.example:8200"
	const evil = "https://evil.example:8200"
	env := []string{"VAULT_ADDR=" + evil, "VAULT_ADDR=" + own}

	// What a Go program really reads with that environment.
	out := filepath.Join(t.TempDir(), "out")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	pid, err := syscall.ForkExec(self, []string{self, "-test.run=^TestDuplicateEnvChild$"},
		&syscall.ProcAttr{Env: append(env, "REVIEW3C_OUT="+out), Files: []uintptr{0, 1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil || ws.ExitStatus() != 0 {
		t.Fatalf("child: %v %v", err, ws)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != evil {
		t.Fatalf("a Go program read VAULT_ADDR=%q, want the first entry %q", got, evil)
	}

	c := &Client{Env: env}
	if v := c.Getenv("VAULT_ADDR"); v != string(got) {
		t.Errorf("Client.Getenv(VAULT_ADDR) = %q, the Go client uses %q", v, got)
	}
	if why := Refusal(envcontract.VaultCLI, c.Env, nil, own); why == "" {
		t.Errorf("Refusal allows a client whose Go runtime sends the token to %s", evil)
	}
	c = &Client{Env: []string{"VAULT_ADDR=" + own, "VAULT_AGENT_ADDR=" + evil, "VAULT_AGENT_ADDR="}}
	if why := Refusal(envcontract.VaultCLI, c.Env, nil, own); !strings.Contains(why, "VAULT_AGENT_ADDR") {
		t.Errorf("Refusal = %q: VAULT_AGENT_ADDR=%s (first entry, what Go reads) not refused", why, evil)
	}
}

// TestUnknownShellDoesNotHideAddressFlag: the vault CLI runs the
// helper through $SHELL -c. With a login shell that is not in the shell
// list (tcsh/csh, common at CERN, busybox ash, yash, oksh, nushell...)
// the walk stops at that shell and takes it for the client: its command
// line is "-c <script> get", so the CLI's own -address=OTHER is never
// seen and the token is handed out for OTHER. Modelled here with dash
// copied under the name tcsh, between a "vault" process (this test
// binary, with -address=OTHER on its command line and VAULT_ADDR of the
// login's Vault) and the helper. Either no client should be found (fail
// closed) or the refusal must see the flag.
func TestUnknownShellDoesNotHideAddressFlag(t *testing.T) {
	const own = "https://vault.example:8200"
	const evil = "https://evil.example:8200"
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	switch os.Getenv("REVIEW3C_ROLE") {
	case "helper":
		c, err := FindClient()
		if err != nil {
			os.Stdout.WriteString("refused: " + err.Error())
		} else if why := Refusal(envcontract.VaultCLI, c.Env, c.Args, own); why != "" {
			os.Stdout.WriteString("refused: " + why)
		} else {
			os.Stdout.WriteString("TOKEN GIVEN to client " + c.Exe + " args " + strings.Join(c.Args, ","))
		}
		os.Exit(0)
	case "vault":
		sh := os.Getenv("REVIEW3C_SHELL")
		cmd := exec.Command(sh, "-c", exe+" -test.run=^TestUnknownShellDoesNotHideAddressFlag$; true")
		cmd.Env = append(os.Environ(), "REVIEW3C_ROLE=helper")
		cmd.Stdout = os.Stdout
		_ = cmd.Run()
		os.Exit(0)
	}
	dash, err := exec.LookPath("dash")
	if err != nil {
		t.Fatal(err)
	}
	tcsh := filepath.Join(t.TempDir(), "tcsh")
	src, err := os.Open(dash)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(tcsh, os.O_CREATE|os.O_WRONLY, 0o700)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	dst.Close()
	cmd := exec.Command(exe, "-test.run=^TestUnknownShellDoesNotHideAddressFlag$", "--", "read", "-address="+evil, "secret/x")
	cmd.Env = append(os.Environ(), "REVIEW3C_ROLE=vault", "REVIEW3C_SHELL="+tcsh, "VAULT_ADDR="+own,
		"VAULT_AGENT_ADDR=", "VAULT_PROXY_ADDR=", "VAULT_HTTP_PROXY=", "VAULT_SRV_LOOKUP=")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("could not run the vault role: %v", err)
	}
	if !strings.HasPrefix(string(out), "refused: ") {
		t.Errorf("vault read -address=%s with SHELL=tcsh: %s", evil, out)
	}
}
